"""One module per dashboard panel; each renders from the `DashboardModel`."""

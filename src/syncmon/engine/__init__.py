"""One poll cycle (sources → metrics → verdicts), the alert evaluation every front end
shares, and the since search in history."""

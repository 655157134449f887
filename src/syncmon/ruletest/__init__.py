"""`syncmon test` (SPEC §13): prove alert rules on synthetic rows before they page.

parse (file → cases, with positions) · series (promtool's notation) · case_values (lengths
and values of a case's series) · rows (cases → seed tables) · cluster (one server, a
database per case) · replay (the real engine on a simulated clock) · compare · report ·
runner (the command).
"""

"""The statuses a hand moves through (spec §4.1)."""

BLINDS = "blinds"  # after CardsDealt, until the big blind is posted
BETTING = "betting"  # action_on must act
DEALING = "dealing"  # the next street is due
DRAWING = "drawing"  # five-card draw: a player's draw is due
SHOWDOWN = "showdown"  # players show in show_order
AWARDING = "awarding"  # everyone else folded: the last live player takes the pot
COMPLETE = "complete"

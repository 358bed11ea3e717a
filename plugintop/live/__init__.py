"""What the screen and the pipes watch as it happens: the live Loki tail (`follow`), reproduce mode's new
slow spans (`reproduce`) and each pillar's newest datum (`health`)."""

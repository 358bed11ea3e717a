"""What the screen and the report both show, in one form: the percentile chart (`chart`), a finding's "why"
in words (`why`), and the shell commands that return the same data (`commands`)."""

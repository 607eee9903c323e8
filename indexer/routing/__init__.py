"""Escalation routes: which department takes a case over when level 1 cannot solve it.

`routes` reads and validates the KB's route file (`_routes.yaml`), `matching` picks the route for a
question and an article (urgent criteria first), and `handoff` writes the note an agent pastes into the
CRM or an e-mail when the case moves on.
"""

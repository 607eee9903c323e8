"""Escalating a case to another department: the route chosen by the agent or by `routing` (`escalation`), the
values the department needs from what the customer wrote (`values`) and the hand-off note the agent pastes
into the CRM or an e-mail (`note`), with personal data the department does not need masked.
"""

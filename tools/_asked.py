"""The words a request must say for a tool to be offered (`@tool(only_if_said=...)`)."""

# A tool that destroys data is offered only when the request asks to do away with
# something: a small model otherwise adds a stray delete to a plan (and an id lookup
# would find it a real target), and a planted instruction cannot ask for one.
TO_DELETE = ("delete", "deleted", "remove", "removed", "cancel", "cancelled", "canceled", "erase", "clear",
             "drop", "move", "reschedule", "replace")

# A draft is a message kept unsent: only when asked for ("text David" means send it).
TO_DRAFT = ("draft", "drafts")

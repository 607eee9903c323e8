"""Answer a pasted customer message or a conversation: every need found, searched and answered in one reply.

An agent pastes what the customer wrote (greeting, questions, order number, signature, quoted mail) or a
phone conversation so far. The modules, in the order they run:

- `cleaning` sets aside HTML, greetings, sign-offs, signatures and quoted or forwarded mail;
- `needs` splits what is left into the customer's questions and requests, background attached;
- `conversation` reads turns and finds what the latest customer turn refers to in earlier ones
  (`subjects` knows the KB's products and names);
- `values` picks out what fills reply placeholders: order and service numbers, the customer's name;
- `compose` writes one reply for the whole message in its language and for its channel;
- `assistant` runs them over the live index, one search per need.
"""

from .assistant import Assistant, AssistRequest, AssistResponse

__all__ = ["AssistRequest", "AssistResponse", "Assistant"]

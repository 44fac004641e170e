"""The assistant's content, shared by the action server (actions/) and the Rasa server (channels/,
components/): the questions and their answers (answers.yml), the replies around them (replies.yml),
every contact detail and link (contact_data.yml), and how a reply is shaped for a channel
(formatting.py). It imports neither of them."""

"""Every sentence the assistant says of its own, in one place.

Medical content never lives here: it comes from the documents, quoted. The clinic's own words
(disclaimer, scope notice, contact details, emergency numbers) live in config/clinic.yml. Purely
social replies (hello, goodbye, thanks, "are you a bot") are Rasa responses in domain.yml.
"""

# -- framing of answers (the facts themselves are quoted passages) --------------------------------
# Replies are in the common subset of Markdown that reads as plain text: paragraphs split by a blank
# line, "- " lists. The topic registry (bot/topics.py) holds each topic's own wording.
CONDITION_FOR_PAIN = "Our documents name one autoimmune condition that can cause {pain}: {names}."
CONDITIONS_FOR_PAIN = "Our documents name {count} autoimmune conditions that can cause {pain}: {names}."
CAUSES_PAIN_YES = "Yes: our documents link {condition} to {pain}."
CAUSES_PAIN_NOT_STATED = "Our documents don't say that {condition} causes {pain}."
CAUSES_PAIN_OTHER_PAINS = "They do link {condition} to {pains}."
PAIN_TYPE_OF_CONDITION = "Our documents link {condition} to one kind of pain: {pains}."
PAIN_TYPES_OF_CONDITION = "Our documents link {condition} to {count} kinds of pain: {pains}."
PAIN_TYPE_INSTEAD = "They do link it to one kind of pain: {pains}."  # after what they don't say of it
PAIN_TYPES_INSTEAD = "They do link it to {count} kinds of pain: {pains}."
PAIN_TYPES_GENERAL = "Our documents describe these kinds of pain in autoimmune conditions: {pains}."
PAIN_TYPE_CONDITIONS = "{pain}: for example {conditions}"
GENERAL_PAIN_SUBJECT = "pain in autoimmune conditions"
TERM_INTRO = "Here is what our documents say about {term}:"
TERM_MENTIONED = "Our documents don't explain {term} as such, but they use the term:"
#: "enthesitis" is inflammation of the entheses: a word the documents do not use, built on one they do.
RELATED_WORD = "Our documents don't use the word {word}, but they speak of the {related}:"
ONLY_LISTED = "Our documents name {term} only in a list, under “{heading}”, and don't describe it further."
EVIDENCE_HEADING = "What our documents say:"
GENERAL_TOO = "About autoimmune conditions in general, they say:"
INLINE_QUOTE = "“{text}”"
INLINE_QUOTE_ABOUT = "writing of {name}, “{text}”"  # a quote that does not name whom it speaks of
QUOTE = "- “{text}”"
NAMED_QUOTE = "- {name}: “{text}”"
SOURCES = "Source: {titles}"
SOURCES_MANY = "Sources: {titles}"
AND = "and"
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")

# -- honest gaps and clarifying questions ---------------------------------------------------------
NO_INFORMATION_ON = "I don't have information on {subject} in our clinic's documents."
NO_INFORMATION_TOPIC = "I don't have information on {topic} for {subject} in our clinic's documents."
EITHER = "{first} or {second}"  # two subjects declined together: "concussion or trigeminal neuralgia"
ONLY_IN_GENERAL = "Our documents speak of {name} in general, not of {kind} in particular."
NO_SPECIFIC_INFORMATION = "Our documents don't say anything about {topic} for {subject} specifically."
CAUSE_INTRO = "Here is what our documents say about what brings on {subject}:"
CAUSE_NOT_STATED = "Our documents don't say what causes {subject}."
NOT_DESCRIBED = "Our documents don't describe what {subject} is."
ASPECT_INTRO = "Here is what our documents say about {about}:"
NO_ASPECT = "Our documents don't say anything about {about}."
GENERAL_OFFER = "They do describe this for autoimmune conditions in general: choose it below if that helps."
ASK_CLINICIAN = "Your doctor, or our clinic, can help with questions about it."
ASK_PHARMACIST = "For questions about a medicine, your pharmacist or doctor is the best person to ask."
WHAT_I_COVER = "I can tell you about {pains}, and about conditions such as {conditions}."
ASK_WHICH_PAIN = "Which kind of pain would you like to know about?"
ASK_WHICH_CONDITION = "Which condition would you like to know about?"
#: Treatment for one's own pain with no condition named: what the documents can speak to, and who can help otherwise.
ASK_CONDITION_OF_YOUR_PAIN = ("Our documents speak of treating pain in autoimmune conditions. Is your pain from one of them? "
                              "Choose it below. If you don't know what is causing your pain, your doctor is the best person to ask.")

# -- conversation ----------------------------------------------------------------------------------
CAPABILITIES = (
    "I answer general questions using our clinic's documents: which autoimmune conditions cause {pains}; "
    "what a condition is; why it hurts; symptoms; why diagnosis can be hard; stress; treatment; and when to "
    "see a doctor. You can also ask to talk to a person or book an appointment."
)
EXAMPLE_CONDITIONS_FOR_PAIN = "What causes {pain}?"
EXAMPLE_CONDITION_INFO = "What is {condition}?"
EXAMPLE_STRESS = "Does stress matter?"
TALK_TO_A_PERSON = "Talk to a person"
OUT_OF_SCOPE = "Sorry, that's outside what I can help with."
NOT_UNDERSTOOD = "Sorry, I didn't understand that."
ASK_REPHRASE = "Sorry, I'm not sure I understood. Could you say it another way?"
OR_READING = "Or: {reading}?"
DID_YOU_MEAN = "I'm not sure I understood. Did you mean one of these?"
SOMETHING_ELSE = "Something else"
FEEDBACK_HELPFUL = "👍 Helpful"
FEEDBACK_NOT_HELPFUL = "👎 Not helpful"
FEEDBACK_THANKS = "Thank you for telling us."
FEEDBACK_WHAT_WAS_MISSING = (
    "Thank you for telling us. If you like, say what you were looking for (it helps the clinic improve "
    "its documents), or just ask your next question."
)
CONTACT = "You can reach {clinic} by phone at {phone} or by email at {email} ({hours}). To book an appointment: {booking_url}"
CONFIRM_FORGET = "Do you want me to delete this conversation? Nothing you said here would be kept."
YES_DELETE = "Yes, delete it"
NO_KEEP = "No, keep it"
FORGOTTEN = "I have deleted this conversation. Nothing you said here is kept any more."
FORGET_FAILED = (
    "Sorry, I could not delete this conversation just now. Please try again in a few minutes, "
    "or ask the clinic to delete it for you."
)
# What the Rasa server says when an action could not run (the action server or its database away:
# bot.rasa.patches). It names the emergency number: the action that failed may be the emergency reply.
ACTION_FAILED = (
    "Sorry, I can't answer that just now. Please try again in a few minutes. "
    "If you are seriously unwell, call your local emergency number."
)
# -- what a chat channel says when it refuses a message (bot.rasa.guard) --------------------------
MESSAGE_TOO_LONG = "Your message is too long for me to read. Please shorten it and send it again."
TOO_MANY_MESSAGES = "You are sending messages faster than I can answer. Please wait a moment and try again."

# -- safety ----------------------------------------------------------------------------------------
EMERGENCY = (
    "What you describe may need urgent medical help. Please call {number} {advice} "
    "Do not wait for an answer from me."
)
EMERGENCY_SELF_HARM = (
    "I'm really sorry you're feeling this way, and you deserve support right now. Please call or text "
    "{crisis_line}. If you might act on these thoughts or are in danger, call {number} {advice}"
)
#: Only the classifier read an emergency into the message, and not firmly: this first, then the answer.
EMERGENCY_IF_SO = "If this is an emergency or you feel seriously unwell, call {number} {advice}"
URGENT_TODAY = (
    "What you describe should be seen by a doctor today, not at your next routine appointment. Please "
    "contact {clinic} today ({phone}) or {urgent_care}. If it gets worse, call {number} now."
)
CANNOT_DIAGNOSE = (
    "I can't tell whether you have a condition: only a clinician who examines you can do that. "
    "Please talk to your doctor about your symptoms."
)
CANNOT_DOSE = (
    "I can't advise on doses: the right dose depends on you, and only your doctor or pharmacist can "
    "tell you. Please ask them."
)
CANNOT_CHANGE_MEDICINE = (
    "I can't recommend a medicine or tell you to start, stop or change one: what is right depends on you, "
    "your health and your other medicines. Please don't start, stop or change a medicine without talking "
    "to your doctor or pharmacist first."
)

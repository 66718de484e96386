"""Every sentence the assistant says of its own, in one place.

Medical content never lives here: it comes from the documents, quoted. The clinic's own words
(disclaimer, scope notice, contact details, emergency numbers) live in config/clinic.yml. Purely
social replies (hello, goodbye, thanks, "are you a bot") are Rasa responses in domain.yml.
"""

# -- framing of answers (the facts themselves are quoted passages) --------------------------------
CONDITIONS_FOR_PAIN = "According to our documents, these autoimmune conditions can cause {pain}:"
CAUSES_PAIN_YES = "Yes. Our documents link {condition} to {pain}:"
CAUSES_PAIN_NOT_STATED = "Our documents don't say that {condition} causes {pain}."
CAUSES_PAIN_OTHER_PAINS = "They do link {condition} to: {pains}."
PAIN_TYPES_OF_CONDITION = "According to our documents, {condition} can cause:"
PAIN_TYPES_GENERAL = "Our documents describe these kinds of pain in autoimmune conditions:"
PAIN_TYPE_CONDITIONS = "{pain} (for example {conditions})"
FACTS_INTRO = {
    "what_is": "Here is how our documents describe {subject}:",
    "mechanism": "Here is how our documents explain the pain in {subject}:",
    "symptoms": "Here is what our documents say about symptoms of {subject}:",
    "diagnosis": "Here is what our documents say about diagnosing {subject}:",
    "diagnosis_difficulty": "Here is why {subject} can be difficult to diagnose, according to our documents:",
    "stress": "Here is what our documents say about stress and {subject}:",
    "treatment": "Here is what our documents say about treating and managing {subject}:",
    "when_to_see_doctor": "Here is what our documents say about when to see a doctor for {subject}:",
}
GENERAL_SUBJECT = "autoimmune conditions"
GENERAL_TOO = "About autoimmune conditions in general, they say:"
QUOTE = "• “{text}”"
NAMED_QUOTE = "• {name}: “{text}”"
SOURCES = "Source: {titles}"
SOURCES_MANY = "Sources: {titles}"

# -- honest gaps and clarifying questions ---------------------------------------------------------
NO_INFORMATION_ON = "I don't have information on {subject} in our clinic's documents."
NO_INFORMATION_TOPIC = "I don't have information on {topic} for {subject} in our clinic's documents."
WHAT_I_COVER = "I can tell you about {pains}, and about conditions such as {conditions}."
ASK_WHICH_PAIN = "Which kind of pain would you like to know about?"
ASK_WHICH_CONDITION = "Which condition would you like to know about?"
TOPIC_NAMES = {
    "what_is": "a description",
    "mechanism": "how the pain arises",
    "symptoms": "symptoms",
    "diagnosis": "diagnosis",
    "diagnosis_difficulty": "why diagnosis is difficult",
    "stress": "stress",
    "treatment": "treatment",
    "when_to_see_doctor": "when to see a doctor",
}

# -- conversation ----------------------------------------------------------------------------------
CAPABILITIES = (
    "I answer general questions using our clinic's documents: which autoimmune conditions cause {pains}; "
    "what a condition is; why it hurts; symptoms; why diagnosis can be hard; stress; treatment; and when to "
    "see a doctor. You can also ask to talk to a person or book an appointment."
)
CAPABILITY_EXAMPLES = (
    ("What causes hip pain?", '/ask_conditions_for_pain{"pain_type":"hip"}'),
    ("What is lupus?", '/ask_condition_info{"condition":"systemic lupus erythematosus"}'),
    ("Does stress matter?", "/ask_stress"),
    ("Talk to a person", "/request_human"),
)
OUT_OF_SCOPE = "Sorry, that's outside what I can help with."
NOT_UNDERSTOOD = "Sorry, I didn't understand that."
ASK_REPHRASE = "Sorry, I'm not sure I understood. Could you say it another way?"
DID_YOU_MEAN = "Did you mean: {description}?"
SOMETHING_ELSE = "Something else"
INTENT_DESCRIPTIONS = {
    "ask_conditions_for_pain": "which conditions cause a kind of pain",
    "ask_condition_causes_pain": "whether a condition causes a kind of pain",
    "ask_pain_types": "what kinds of pain a condition causes",
    "ask_condition_info": "what a condition is",
    "ask_symptoms": "the symptoms of a condition",
    "ask_mechanism": "why autoimmune conditions cause pain",
    "ask_diagnosis": "how it is diagnosed",
    "ask_diagnosis_difficulty": "why diagnosis is difficult",
    "ask_stress": "the role of stress",
    "ask_treatment": "treatment and management",
    "ask_when_to_see_doctor": "when to see a doctor",
    "request_human": "talking to a person or booking an appointment",
    "ask_capabilities": "what I can help with",
    "greet": "saying hello",
    "goodbye": "saying goodbye",
    "thanks": "saying thanks",
}
CONTACT = "You can reach {clinic} by phone at {phone} or by email at {email} ({hours}). To book an appointment: {booking_url}"
FORGOTTEN = "I have deleted this conversation. Nothing you said here is kept any more."

# -- safety ----------------------------------------------------------------------------------------
EMERGENCY = (
    "What you describe may need urgent medical help. Please call {number} {advice} "
    "Do not wait for an answer from me."
)
EMERGENCY_SELF_HARM = (
    "I'm really sorry you're feeling this way, and you deserve support right now. Please call or text "
    "{crisis_line}. If you might act on these thoughts or are in danger, call {number} {advice}"
)
URGENT_TODAY = (
    "What you describe should be seen by a doctor today, not at your next routine appointment. Please "
    "contact {clinic} today ({phone}) or {urgent_care}. If it gets worse, call your emergency number now."
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
    "Please don't start, stop or change a medicine without talking to the clinician who prescribed it: "
    "changing it on your own can be harmful. Contact your doctor or pharmacist first."
)
GENERAL_INFORMATION_MAY_HELP = "Some general information from our documents that may help:"

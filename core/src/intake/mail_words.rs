//! The words mail clients and writers put around what matters — reply and forward
//! separators, header names, attributions, signatures, legal footers, greetings and
//! sign-offs — in every language Keydesk reads: one table, asked by the quoting rules.

/// What one language's mail clients and writers put around the words that matter.
/// Entries are written in [`plain`] form: lower case, "email" for "e-mail", no space
/// before a colon.
pub(crate) struct MailWords {
    /// Inside a reply separator: Outlook's "-----Original Message-----", Thunderbird's
    /// "-------- Original Message --------".
    pub(crate) reply_separators: &'static [&'static str],
    /// Inside a forward separator: Gmail's "---------- Forwarded message ---------",
    /// Thunderbird's "-------- Forwarded Message --------".
    pub(crate) forward_separators: &'static [&'static str],
    /// Apple Mail's whole line above a forwarded message.
    pub(crate) forward_intros: &'static [&'static str],
    /// Header names in the block clients repeat above a quoted or forwarded message.
    pub(crate) from: &'static [&'static str],
    pub(crate) date: &'static [&'static str],
    pub(crate) to: &'static [&'static str],
    pub(crate) cc: &'static [&'static str],
    pub(crate) subject: &'static [&'static str],
    /// Other names Outlook lists in that block ("Importance: High").
    pub(crate) other_headers: &'static [&'static str],
    /// First word of an attribution, "On … wrote:".
    pub(crate) attribution_openings: &'static [&'static str],
    /// Its verb, last or followed only by the quoted person: "wrote:", "schrieb Jane <…>:".
    pub(crate) attribution_verbs: &'static [&'static str],
    /// Subject prefixes of a forward, without the colon: "FW: …".
    pub(crate) forward_subject_prefixes: &'static [&'static str],
    /// Lines phones and apps append; `*` stands for a few words naming a device or app
    /// (see [`DEVICES`]).
    pub(crate) app_signatures: &'static [&'static str],
    /// How legal and confidentiality footers begin; matched at the start of a line.
    pub(crate) legal_footers: &'static [&'static str],
    /// Closing phrases, alone on a line.
    pub(crate) sign_offs: &'static [&'static str],
    /// Opening phrases, alone on a line or followed by whom they address.
    pub(crate) greetings: &'static [&'static str],
    /// Lower-case words a greeting may address: "Hello team!", "Hallo zusammen,".
    pub(crate) greeting_addressees: &'static [&'static str],
}

// The tables below are kept one language to a block and a few phrases to a line, so a
// reader can compare languages and add one; rustfmt would give every phrase its own line.

#[rustfmt::skip]
const ENGLISH: MailWords = MailWords {
    reply_separators: &["original message"],
    forward_separators: &["forwarded message"],
    forward_intros: &["begin forwarded message:"],
    from: &["from"],
    date: &["sent", "date"],
    to: &["to"],
    cc: &["cc", "bcc"],
    subject: &["subject"],
    other_headers: &["importance", "attachments", "reply-to"],
    attribution_openings: &["on"],
    attribution_verbs: &["wrote", "writes"],
    forward_subject_prefixes: &["fw", "fwd"],
    app_signatures: &[
        "sent from my *", "sent from outlook*", "sent from mail for *", "sent from yahoo mail*", "get outlook for *",
    ],
    legal_footers: &[
        "this email and any attachments", "this email and any files", "this message and any attachments",
        "this email is confidential", "this message is confidential", "this email contains confidential",
        "this message contains confidential", "this email may contain confidential",
        "the information contained in this email", "the information contained in this message",
        "the information in this email", "confidentiality notice", "confidentiality note",
        "privileged and confidential", "please consider the environment before printing",
        "please think of the environment before printing", "disclaimer", "legal notice",
    ],
    sign_offs: &[
        "thanks", "thank you", "thanks a lot", "many thanks", "thanks in advance", "thanks again",
        "thank you in advance", "regards", "kind regards", "best regards", "warm regards", "warmest regards",
        "best wishes", "best", "cheers", "sincerely", "yours sincerely", "yours faithfully", "yours truly",
        "respectfully", "all the best", "br", "kr",
    ],
    greetings: &[
        "hi", "hello", "hey", "dear", "hiya", "morning", "good morning", "good afternoon", "good evening",
        "greetings", "to whom it may concern",
    ],
    greeting_addressees: &[
        "team", "there", "all", "everyone", "everybody", "folks", "support", "sir", "madam", "and", "or",
    ],
};

#[rustfmt::skip]
const GERMAN: MailWords = MailWords {
    reply_separators: &["ursprüngliche nachricht"],
    forward_separators: &["weitergeleitete nachricht"],
    forward_intros: &["anfang der weitergeleiteten nachricht:"],
    from: &["von"],
    date: &["gesendet", "datum"],
    to: &["an"],
    cc: &["cc", "bcc"],
    subject: &["betreff"],
    other_headers: &["wichtigkeit", "anlagen", "antwort an"],
    attribution_openings: &["am"],
    attribution_verbs: &["schrieb"],
    forward_subject_prefixes: &["wg", "wtr"],
    app_signatures: &[
        "von meinem * gesendet", "gesendet von meinem *", "gesendet von outlook*", "outlook für * beziehen",
    ],
    legal_footers: &[
        "diese email enthält vertrauliche", "diese nachricht enthält vertrauliche", "diese email und alle anhänge",
        "diese email ist vertraulich", "der inhalt dieser email ist vertraulich", "vertraulichkeitshinweis",
        "haftungsausschluss", "rechtlicher hinweis", "bitte denken sie an die umwelt", "denken sie an die umwelt",
    ],
    sign_offs: &[
        "mit freundlichen grüßen", "mit freundlichen grüssen", "freundliche grüße", "viele grüße", "viele grüsse",
        "beste grüße", "liebe grüße", "herzliche grüße", "grüße", "gruß", "mfg", "lg", "vg", "danke", "vielen dank",
        "danke schön", "besten dank",
    ],
    greetings: &[
        "hallo", "guten tag", "guten morgen", "sehr geehrte damen und herren", "sehr geehrte", "sehr geehrter",
        "liebe", "lieber", "moin", "servus",
    ],
    greeting_addressees: &["zusammen", "alle", "team", "und"],
};

#[rustfmt::skip]
const FRENCH: MailWords = MailWords {
    reply_separators: &["message d'origine", "message original"],
    forward_separators: &["message transféré"],
    forward_intros: &["début du message réexpédié:", "début du message transféré:"],
    from: &["de"],
    date: &["envoyé", "date"],
    to: &["à"],
    cc: &["cc", "cci"],
    subject: &["objet"],
    other_headers: &["importance", "pièces jointes"],
    attribution_openings: &["le"],
    attribution_verbs: &["a écrit"],
    forward_subject_prefixes: &["tr", "trans"],
    app_signatures: &["envoyé de mon *", "envoyé depuis mon *", "obtenir outlook pour *", "télécharger outlook pour *"],
    legal_footers: &[
        "ce message et toutes les pièces jointes", "ce message et ses pièces jointes",
        "ce message et les pièces jointes", "ce courriel et toutes les pièces jointes", "ce message est confidentiel",
        "ce courriel est confidentiel",
        "les informations contenues dans ce message", "avis de confidentialité", "avertissement de confidentialité",
        "pensez à l'environnement avant d'imprimer", "merci de penser à l'environnement",
    ],
    sign_offs: &[
        "cordialement", "bien cordialement", "bien à vous", "salutations", "meilleures salutations", "merci",
        "merci beaucoup", "merci d'avance", "bonne journée",
    ],
    greetings: &["bonjour", "bonsoir", "salut", "madame", "monsieur", "cher", "chère"],
    greeting_addressees: &["à", "tous", "toutes", "équipe", "l'équipe", "et", "madame", "monsieur"],
};

#[rustfmt::skip]
const SPANISH: MailWords = MailWords {
    reply_separators: &["mensaje original"],
    forward_separators: &["mensaje reenviado"],
    forward_intros: &["inicio del mensaje reenviado:"],
    from: &["de"],
    date: &["enviado el", "enviado", "fecha"],
    to: &["para"],
    cc: &["cc", "cco"],
    subject: &["asunto"],
    other_headers: &["importancia", "datos adjuntos"],
    attribution_openings: &["el"],
    attribution_verbs: &["escribió"],
    forward_subject_prefixes: &["rv", "reenv"],
    app_signatures: &["enviado desde mi *", "enviado desde outlook*", "obtener outlook para *"],
    legal_footers: &[
        "este mensaje y sus anexos", "este mensaje y sus archivos adjuntos", "este correo electrónico y sus anexos",
        "este mensaje es confidencial", "este correo electrónico es confidencial", "la información contenida en este",
        "aviso de confidencialidad", "aviso legal", "antes de imprimir este",
    ],
    sign_offs: &[
        "saludos", "un saludo", "saludos cordiales", "atentamente", "cordialmente", "gracias", "muchas gracias",
    ],
    greetings: &["hola", "buenos días", "buenas tardes", "estimado", "estimada", "estimados"],
    greeting_addressees: &["a", "todos", "todas", "equipo", "y"],
};

#[rustfmt::skip]
const DUTCH: MailWords = MailWords {
    reply_separators: &["oorspronkelijk bericht", "origineel bericht"],
    forward_separators: &["doorgestuurd bericht"],
    forward_intros: &["begin doorgestuurd bericht:"],
    from: &["van"],
    date: &["verzonden", "datum"],
    to: &["aan"],
    cc: &["cc", "bcc"],
    subject: &["onderwerp"],
    other_headers: &["urgentie", "prioriteit", "bijlagen"],
    attribution_openings: &["op"],
    attribution_verbs: &["schreef", "het volgende geschreven"],
    forward_subject_prefixes: &["doorst"],
    app_signatures: &["verzonden vanaf mijn *", "verstuurd vanaf mijn *", "outlook voor * downloaden"],
    legal_footers: &[
        "deze email en eventuele bijlagen", "dit emailbericht en eventuele bijlagen", "dit bericht is vertrouwelijk",
        "deze email is vertrouwelijk", "de informatie in dit emailbericht",
        "de informatie verzonden in dit emailbericht", "denk aan het milieu",
    ],
    sign_offs: &[
        "met vriendelijke groet", "met vriendelijke groeten", "vriendelijke groet", "groeten", "groetjes", "mvg",
        "bedankt", "alvast bedankt", "dank je", "dank u",
    ],
    greetings: &["hallo", "goedemorgen", "goedemiddag", "beste", "geachte", "hoi"],
    greeting_addressees: &["allemaal", "iedereen", "team", "en"],
};

#[rustfmt::skip]
const ITALIAN: MailWords = MailWords {
    reply_separators: &["messaggio originale"],
    forward_separators: &["messaggio inoltrato"],
    forward_intros: &["inizio messaggio inoltrato:"],
    from: &["da"],
    date: &["inviato", "data"],
    to: &["a"],
    cc: &["cc", "ccn"],
    subject: &["oggetto"],
    other_headers: &["priorità", "allegati"],
    attribution_openings: &["il"],
    attribution_verbs: &["ha scritto"],
    forward_subject_prefixes: &["i", "inoltro"],
    app_signatures: &["inviato da iphone", "inviato da ipad", "inviato dal mio *", "scarica outlook per *"],
    legal_footers: &[
        "questo messaggio e i suoi allegati", "questo messaggio e gli eventuali allegati",
        "questa email e gli eventuali allegati", "le informazioni contenute in questo",
        "questo messaggio è confidenziale", "questa email è riservata", "avviso di riservatezza",
        "clausola di riservatezza", "pensa all'ambiente prima di stampare",
    ],
    sign_offs: &[
        "cordiali saluti", "distinti saluti", "saluti", "un saluto", "grazie", "grazie mille", "buona giornata",
    ],
    greetings: &["ciao", "buongiorno", "buonasera", "gentile", "gentili", "salve"],
    greeting_addressees: &["a", "tutti", "team", "e"],
};

/// Every language Keydesk reads. A rule matches a phrase from any of them: mail mixes
/// languages (a German Outlook quoting an English Gmail), and no phrase here means
/// something else in another.
pub(crate) const LANGUAGES: &[MailWords] = &[ENGLISH, GERMAN, FRENCH, SPANISH, DUTCH, ITALIAN];

pub(crate) fn in_any_language(words: fn(&MailWords) -> &'static [&'static str]) -> impl Iterator<Item = &'static str> {
    LANGUAGES.iter().flat_map(move |language| words(language).iter().copied())
}

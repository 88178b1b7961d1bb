//! Unit tests for quoting.rs: the English shapes, then signatures, legal footers, forward
//! markers and the lines around the text. How each client quotes, by language, is in
//! quoting_clients_tests.rs.

use super::*;

pub(super) fn check(cases: &[(&str, &str, &str)]) {
    for (case, body, expected) in cases {
        assert_eq!(strip_quotes_and_signature(body), *expected, "{case}");
    }
}

#[test]
fn removes_quoted_history_and_signatures() {
    check(&[
        ("plain text is untouched", "I am locked out.\n\nPlease help.", "I am locked out.\n\nPlease help."),
        ("CRLF becomes LF", "Line one\r\nLine two\r\n", "Line one\nLine two"),
        ("> quoted lines", "It works now.\n\n> Your account is unlocked.\n> Keydesk", "It works now."),
        ("inline reply keeps both answers", "> Name?\nJane Doe\n> Email?\njane@acme.test", "Jane Doe\njane@acme.test"),
        (
            "attribution over two lines",
            "Still locked.\n\nOn Tue, 4 Mar 2025 at 09:12, Keydesk Support <\nsupport@keydesk.test> wrote:\n\
             > Try again",
            "Still locked.",
        ),
        ("French attribution", "C'est réglé.\n\nLe mar. 4 mars 2025, Keydesk a écrit :\n> Bonjour", "C'est réglé."),
        ("signature delimiter", "Locked out.\n-- \nJane Doe\nFinance, ACME", "Locked out."),
        ("trimmed delimiter", "Locked out.\n--\nJane", "Locked out."),
        ("mobile signature", "Locked out again\n\nSent from my iPhone\n\n> earlier", "Locked out again"),
        ("Outlook app", "Locked out\n\nGet Outlook for Android", "Locked out"),
        (
            "Outlook separator and header block",
            "Done, thanks.\n\n________________________________\nFrom: Keydesk <support@keydesk.test>\nSent: Monday\n\
             To: Jane\nSubject: Unlock",
            "Done, thanks.",
        ),
        (
            "Outlook header block without separator, bold from HTML",
            "It still fails.\n\n**From:** Keydesk\n**Sent:** Monday\n**To:** Jane",
            "It still fails.",
        ),
        ("original message", "See below.\n-----Original Message-----\nFrom: x", "See below."),
        ("spaced original message", "See below.\n----- Original Message -----\nFrom: x", "See below."),
        ("sign-off then name", "Please unlock me.\n\nThanks,\nJane Doe", "Please unlock me."),
        ("sign-off then blank then name", "Please unlock me.\n\nKind regards,\n\nJane", "Please unlock me."),
        ("inline sign-off", "Please unlock me.\nCheers, Jane", "Please unlock me."),
        ("bare sign-off", "Please unlock me.\nThank you!", "Please unlock me."),
        ("a reply that is only thanks keeps it", "Thanks!\n\nOn Mon, Keydesk wrote:\n> Unlocked", "Thanks!"),
        ("only a sign-off and name keeps them", "Thanks,\nJane", "Thanks,\nJane"),
        (
            "sign-off before a title is kept",
            "Unlock me.\nRegards,\nJane Doe\nHead of Finance, ACME Ltd",
            "Unlock me.\nRegards,\nJane Doe\nHead of Finance, ACME Ltd",
        ),
        (
            "a From: line on its own is content",
            "From: the finance team\nWe are all locked out.",
            "From: the finance team\nWe are all locked out.",
        ),
        (
            "thanks mid-text is content",
            "Thanks for the quick reply.\nIt still fails.",
            "Thanks for the quick reply.\nIt still fails.",
        ),
        (
            "a sentence starting On is content",
            "On Monday I was locked out.\nPlease help.",
            "On Monday I was locked out.\nPlease help.",
        ),
        (
            "link footnotes of rendered HTML",
            "See [the page][1].\n\nThanks,\nAna\n\n[1]: https://acme.test/x\n[2]: mailto:a@acme.test",
            "See [the page][1].",
        ),
        ("a footnote-like line mid-text is content", "[1]: first point\nand more", "[1]: first point\nand more"),
        ("empty", "", ""),
    ]);
}

#[test]
fn app_signatures_in_six_languages() {
    for signature in [
        "Sent from my iPhone",
        "Sent from my Galaxy",
        "Sent from Outlook for iOS<https://aka.ms/o0ukef>",
        "Sent from Yahoo Mail on Android",
        "Get Outlook for iOS<https://aka.ms/o0ukef>",
        "Von meinem iPhone gesendet",
        "Von meinem Samsung Galaxy Smartphone gesendet.",
        "Outlook für iOS beziehen<https://aka.ms/o0ukef>",
        "Envoyé de mon iPhone",
        "Envoyé depuis mon mobile",
        "Enviado desde mi iPhone",
        "Verzonden vanaf mijn iPhone",
        "Inviato da iPhone",
        "Inviato dal mio smartphone Samsung Galaxy.",
    ] {
        assert_eq!(strip(&format!("Still locked.\n\n{signature}\n")), "Still locked.", "{signature:?}");
    }
    for sentence in [
        "Sent from my work laptop, but the error is the same.",
        "Sent from my phone while on holiday, it still fails",
        "Von meinem Konto wurde nichts gesendet.",
        "Enviado desde mi cuenta personal el lunes pasado, sin respuesta",
    ] {
        let body = format!("Still locked.\n{sentence}");
        assert_eq!(strip(&body), body, "{sentence:?}");
    }
}

#[test]
fn legal_footers_end_the_text() {
    check(&[
        (
            "English, after a sign-off",
            "Locked out again.\n\nThanks,\nJane\n\n\
             This e-mail and any attachments are confidential and may be privileged. \
             If you are not the intended recipient, please notify the sender.",
            "Locked out again.",
        ),
        (
            "capitalised notice",
            "Please unlock jane@acme.test.\n\n\
             CONFIDENTIALITY NOTICE: The contents of this email message are intended for the addressee only.",
            "Please unlock jane@acme.test.",
        ),
        (
            "German",
            "Bitte entsperren.\n\nDiese E-Mail enthält vertrauliche und/oder rechtlich geschützte Informationen. \
             Wenn Sie nicht der richtige Adressat sind, informieren Sie bitte sofort den Absender.",
            "Bitte entsperren.",
        ),
        (
            "French",
            "Merci de débloquer mon compte.\n\nCe message et toutes les pièces jointes sont confidentiels et établis \
             à l'intention exclusive de ses destinataires.",
            "Merci de débloquer mon compte.",
        ),
        (
            "a rule of stars above a DISCLAIMER heading",
            "Account locked since Monday.\n\n**********************************************\nDISCLAIMER\n\
             The information in this message is confidential.",
            "Account locked since Monday.",
        ),
        (
            "a rule of equals signs above a notice",
            "Account locked.\n\n==========================\n\
             This email is confidential and intended solely for the addressee.",
            "Account locked.",
        ),
        ("the environment", "Locked.\n\nPlease consider the environment before printing this email.", "Locked."),
        (
            "Spanish",
            "Bloqueado.\n\nAVISO LEGAL: Este mensaje y sus archivos adjuntos son confidenciales.",
            "Bloqueado.",
        ),
        ("Italian", "Bloccato.\n\nQuesto messaggio e gli eventuali allegati sono riservati.", "Bloccato."),
        // Keeping text when unsure: these only mention the words.
        (
            "a sentence about a disclaimer",
            "The disclaimer page won't load.\nThen it locks.",
            "The disclaimer page won't load.\nThen it locks.",
        ),
        (
            "a plural",
            "Disclaimers are shown at login, then it locks.",
            "Disclaimers are shown at login, then it locks.",
        ),
        ("a rule with nothing legal after it", "Steps:\n=====\n1. Log in", "Steps:\n=====\n1. Log in"),
    ]);
}

#[test]
fn a_forward_ends_the_forwarders_own_text() {
    check(&[
        (
            "Gmail",
            "FYI, see below.\n\n---------- Forwarded message ---------\nFrom: Jane Doe <jane@acme.test>\nDate: Tue\n\n\
             Locked.",
            "FYI, see below.",
        ),
        (
            "Gmail, German",
            "Zur Info.\n\n---------- Weitergeleitete Nachricht ---------\nVon: Jane Doe <jane@acme.test>",
            "Zur Info.",
        ),
        (
            "Apple Mail",
            "Can you help her?\n\nBegin forwarded message:\n\n> From: Jane Doe <jane@acme.test>",
            "Can you help her?",
        ),
        (
            "Apple Mail, French",
            "Voir ci-dessous.\n\nDébut du message réexpédié :\n\n> De: Jane Doe <jane@acme.test>",
            "Voir ci-dessous.",
        ),
        (
            "Thunderbird, Dutch",
            "Zie onder.\n\n-------- Doorgestuurd bericht --------\nOnderwerp: \tAccount geblokkeerd",
            "Zie onder.",
        ),
        (
            "Italian",
            "Vedi sotto.\n\n---------- Messaggio inoltrato ---------\nDa: Giulia Rossi <giulia@acme.test>",
            "Vedi sotto.",
        ),
        (
            "nothing of one's own",
            "---------- Forwarded message ---------\nFrom: Jane Doe <jane@acme.test>\n\nLocked out.",
            "",
        ),
    ]);
}

#[test]
fn a_short_mail_keeps_its_one_line() {
    for line in ["Hello to myself!", "locked out again", "Thanks!", "Hi,"] {
        assert_eq!(strip(line), line, "{line:?}");
        assert_eq!(strip(&format!("\n{line}\n\n")), line, "{line:?}");
    }
}

#[test]
fn recognises_sign_off_phrases_only_when_alone() {
    for line in [
        "Thanks",
        "Thanks,",
        "thank you!",
        "Kind regards,",
        "  Best regards ",
        "Cheers!",
        "Mit freundlichen Grüßen",
        "Viele Grüße",
        "Cordialement,",
        "Un saludo",
        "Met vriendelijke groet,",
        "Cordiali saluti",
    ] {
        assert!(is_sign_off(line), "{line:?}");
    }
    for line in ["Thanks for your help", "Regards from Sydney,", "Best practice", "Grüße an das Team", ""] {
        assert!(!is_sign_off(line), "{line:?}");
    }
}

#[test]
fn greetings_in_six_languages() {
    for line in [
        "Hi,",
        "Hello team!",
        "Dear Support,",
        "Dear Sir or Madam,",
        "Good morning",
        "hi there",
        "Hallo,",
        "Hallo zusammen,",
        "Sehr geehrte Damen und Herren,",
        "Sehr geehrte Frau Müller,",
        "Bonjour à tous,",
        "Hola equipo,",
        "Beste Jan,",
        "Buongiorno,",
    ] {
        assert!(is_greeting(line), "{line:?}");
    }
    for line in [
        "Hello to myself!",
        "Hi, locked out again",
        "Hallo? Ist da jemand?",
        "Hi, this is Jane Doe, my account is locked",
        "History of the issue",
        "",
    ] {
        assert!(!is_greeting(line), "{line:?}");
    }
}

#[test]
fn forward_subjects_in_six_languages() {
    for subject in [
        "FW: Locked out",
        "Fwd: Locked out",
        "WG: Konto gesperrt",
        "TR : Compte bloqué",
        "RV: Cuenta",
        "Doorst: Account",
        "I: Account bloccato",
    ] {
        assert!(is_forward_subject(subject), "{subject:?}");
    }
    for subject in ["RE: FW: Locked out", "AW: WG: Konto", "Locked out", "Information: locked"] {
        assert!(!is_forward_subject(subject), "{subject:?}");
    }
}

fn strip(body: &str) -> String {
    strip_quotes_and_signature(body)
}

#[test]
fn an_emacs_or_mutt_attribution_starts_the_history() {
    let body =
        "Thanks, that fixed it.\n\n\"Jakob Carlsson\" <esrange@example.com> writes:\n\n> Material for the text.\n";
    assert_eq!(strip_quotes_and_signature(body), "Thanks, that fixed it.");
    let sentence = "I told him what she writes:\nthe account is locked.";
    assert_eq!(strip_quotes_and_signature(sentence), sentence, "no address, no quote: a sentence");
}

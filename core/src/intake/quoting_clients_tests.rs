//! Unit tests for quoting.rs on how each mail client quotes a reply: Outlook's header
//! blocks and separators, Gmail's, Apple Mail's and Thunderbird's attributions, in the six
//! languages of the table.

use super::tests::check;

#[test]
fn outlook_quotes_in_six_languages() {
    check(&[
        (
            "German Outlook, plain text with [mailto:]",
            "Hallo,\n\ndas Konto ist immer noch gesperrt.\n\nViele Grüße\nAnna Schmidt\n\n\
             -----Ursprüngliche Nachricht-----\n\
             Von: Keydesk Support [mailto:support@keydesk.test]\nGesendet: Dienstag, 4. März 2025 09:12\n\
             An: Schmidt, Anna <anna.schmidt@acme.test>\nBetreff: AW: Konto gesperrt\n\nBitte senden Sie Ihren Namen.",
            "Hallo,\n\ndas Konto ist immer noch gesperrt.",
        ),
        (
            "German Outlook HTML: bold header block, no separator",
            "Danke, geht wieder.\n\n*Von:* Keydesk Support <support@keydesk.test>\n\
             *Gesendet:* Dienstag, 4. März 2025 09:12\n\
             *An:* Anna Schmidt <anna.schmidt@acme.test>\n*Betreff:* Konto entsperrt\n\nIhr Konto ist entsperrt.",
            "Danke, geht wieder.",
        ),
        (
            "French Outlook, no-break spaces before the colons",
            "Bonjour,\n\nToujours bloquée ce matin.\n\nCordialement,\nChloé Dubois\n\n\
             De\u{a0}: Keydesk Support <support@keydesk.test>\nEnvoyé\u{a0}: mardi 4 mars 2025 09:12\n\
             À\u{a0}: Dubois, Chloé <chloe.dubois@acme.test>\nObjet\u{a0}: RE: Compte bloqué\n\n\
             Merci de nous indiquer votre nom.",
            "Bonjour,\n\nToujours bloquée ce matin.",
        ),
        (
            "French Outlook separator",
            "Merci, c'est bon.\n\n-----Message d'origine-----\nDe : Keydesk <support@keydesk.test>\n\
             Envoyé : mardi 4 mars 2025 09:12",
            "Merci, c'est bon.",
        ),
        (
            "Spanish Outlook",
            "Sigo sin poder entrar.\n\n-----Mensaje original-----\nDe: Keydesk Support <support@keydesk.test>\n\
             Enviado el: martes, 4 de marzo de 2025 9:12\nPara: Ana López\nAsunto: RE: Cuenta bloqueada",
            "Sigo sin poder entrar.",
        ),
        (
            "Spanish header block without separator",
            "Sigo bloqueada.\n\nDe: Keydesk Support <support@keydesk.test>\n\
             Enviado el: martes, 4 de marzo de 2025 9:12\n\
             Para: Ana López <ana.lopez@acme.test>\nAsunto: Cuenta bloqueada",
            "Sigo bloqueada.",
        ),
        (
            "Dutch Outlook",
            "Nog steeds geblokkeerd.\n\n-----Oorspronkelijk bericht-----\nVan: Keydesk Support <support@keydesk.test>\n\
             Verzonden: dinsdag 4 maart 2025 09:12\nAan: Jan de Vries\nOnderwerp: RE: Account geblokkeerd",
            "Nog steeds geblokkeerd.",
        ),
        (
            "Italian Outlook header block",
            "Ancora bloccato.\n\nDa: Keydesk Support <support@keydesk.test>\nInviato: martedì 4 marzo 2025 09:12\n\
             A: Giulia Rossi <giulia.rossi@acme.test>\nOggetto: R: Account bloccato",
            "Ancora bloccato.",
        ),
        (
            "Italian Outlook separator",
            "Ancora bloccato.\n\n-----Messaggio originale-----\nDa: Keydesk Support\n\
             Inviato: martedì 4 marzo 2025 09:12",
            "Ancora bloccato.",
        ),
        (
            "Outlook for Mac: Date instead of Sent, a wrapped recipient list",
            "Still locked.\n\nFrom: Keydesk Support <support@keydesk.test>\nDate: Tuesday, 4 March 2025 at 09:12\n\
             To: Jane Doe <jane@acme.test>, Bob Lee\n<bob@acme.test>\nSubject: Re: Locked",
            "Still locked.",
        ),
    ]);
}

#[test]
fn gmail_apple_and_thunderbird_attributions_in_six_languages() {
    check(&[
        (
            "Gmail, English",
            "Still locked.\n\nOn Tue, 4 Mar 2025 at 09:12, Keydesk Support <support@keydesk.test> wrote:\n\n> Hi",
            "Still locked.",
        ),
        (
            "Gmail, US date order",
            "Still locked.\n\nOn Tue, Mar 4, 2025 at 9:12 AM Keydesk Support <support@keydesk.test>\nwrote:\n\n> Hi",
            "Still locked.",
        ),
        (
            "Gmail, German, wrapped over three lines",
            "Immer noch gesperrt.\n\nAm Di., 4. März 2025 um 09:12 Uhr schrieb Keydesk\nSupport <\n\
             support@keydesk.test>:\n\n> Hallo",
            "Immer noch gesperrt.",
        ),
        (
            "Gmail, French, verb wrapped",
            "Toujours bloqué.\n\nLe mar. 4 mars 2025 à 09:12, Keydesk Support <support@keydesk.test> a\nécrit :\n\n\
             > Bonjour",
            "Toujours bloqué.",
        ),
        (
            "Gmail, Spanish",
            "Sigo bloqueado.\n\nEl mar, 4 mar 2025 a las 9:12, Keydesk Support (<support@keydesk.test>) escribió:\n\n\
             > Hola",
            "Sigo bloqueado.",
        ),
        (
            "Gmail, Dutch",
            "Nog steeds.\n\nOp di 4 mrt 2025 om 09:12 schreef Keydesk Support <support@keydesk.test>:\n\n> Hallo",
            "Nog steeds.",
        ),
        (
            "Gmail, Italian",
            "Ancora.\n\nIl giorno mar 4 mar 2025 alle ore 09:12 Keydesk Support <\nsupport@keydesk.test> ha scritto:\n\
             \n> Ciao",
            "Ancora.",
        ),
        (
            "Apple Mail, English",
            "Still locked.\n\n> On 4 Mar 2025, at 09:12, Keydesk <support@keydesk.test> wrote:\n> \n> Hi",
            "Still locked.",
        ),
        (
            "Apple Mail, unquoted attribution",
            "Still locked.\n\nOn 4 Mar 2025, at 09:12, Keydesk Support <support@keydesk.test> wrote:\n\nHi Jane",
            "Still locked.",
        ),
        (
            "Apple Mail, Dutch",
            "Nog steeds.\n\n\
             Op 4 mrt. 2025 om 09:12 heeft Keydesk Support <support@keydesk.test> het volgende geschreven:\n\n> Hallo",
            "Nog steeds.",
        ),
        (
            "Thunderbird, German, no address",
            "Geht nicht.\n\nAm 04.03.25 um 09:12 schrieb Keydesk Support:\n> Hallo",
            "Geht nicht.",
        ),
        (
            "Thunderbird separator with its Subject-first header block",
            "Still locked.\n\n-------- Original Message --------\nSubject: \tRe: Locked\n\
             Date: \tTue, 4 Mar 2025 09:12:00 +0100\n\
             From: \tKeydesk Support <support@keydesk.test>\nTo: \tjane@acme.test",
            "Still locked.",
        ),
        (
            "Thunderbird, German separator",
            "Geht nicht.\n\n-------- Ursprüngliche Nachricht --------\nBetreff: Re: Gesperrt",
            "Geht nicht.",
        ),
        (
            "Thunderbird, French separator",
            "Toujours.\n\n-------- Message original --------\nObjet : Re: Bloqué",
            "Toujours.",
        ),
        (
            "Thunderbird header block without separator",
            "Still.\n\nSubject: Re: Locked\nDate: Tue, 4 Mar 2025 09:12\nFrom: Keydesk\nTo: jane@acme.test",
            "Still.",
        ),
    ]);
}

#[test]
fn sentences_shaped_like_attributions_are_kept() {
    check(&[
        (
            "On … wrote: without date, address or quote",
            "On Monday I wrote to you about this:\nStill no answer.",
            "On Monday I wrote to you about this:\nStill no answer.",
        ),
        (
            "German",
            "Am Montag schrieb ich Ihnen:\nKeine Antwort bisher.",
            "Am Montag schrieb ich Ihnen:\nKeine Antwort bisher.",
        ),
        ("French", "Le système a écrit :\nErreur 403", "Le système a écrit :\nErreur 403"),
        ("Italian word Il", "Il messaggio dice:\naccount bloccato", "Il messaggio dice:\naccount bloccato"),
    ]);
}

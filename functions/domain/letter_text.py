"""What a forgiveness letter says, in English and Spanish: pure text, laid out by the renderers.

The sections a frightened debtor needs: who writes (the campaign's letterhead), when, which
account (as the debtor knows it: creditor, last four characters of the account number, the
charge-off date, the amount), that it is forgiven in full with nothing owed and nothing to do,
what to do if a collector calls, a credit-report note, a tax note (factual, not advice, and the
campaign's to edit), the code and where to check it, and whom to ask.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from functions.domain.money import format_cents

LANGUAGES = ("en", "es")
# Who the campaign is, legally: a 501(c)(3) charity, a 501(c)(4), a fiscally sponsored project, or none of these.
ENTITY_TYPES = ("501c3", "501c4", "sponsored", "none")
# What the letter's tax note says depends on who forgave the debt: only a 501(c)(3) is "a charity" itself
# (a sponsored project's letterhead may be the project's, not its sponsor's).
NOTE_KIND = {"501c3": "charity", "501c4": "other", "sponsored": "other", "none": "other"}

MONTHS = {
    "en": "January February March April May June July August September October November December".split(),
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre".split(),
}
GENERIC_CREDITOR = {
    "en": {"medical": "a medical provider", "other": "the original creditor"},
    "es": {"medical": "un proveedor médico", "other": "el acreedor original"},
}
TAX_NOTES = {
    ("en", "charity"): "Tax: {sender} is a charity and forgave this debt as a gift. We do not send you or the IRS "
                       "a Form 1099-C (Cancellation of Debt) for it. Whether forgiven debt counts as income depends "
                       "on your circumstances; this letter is not tax advice.",
    ("en", "other"): "Tax: we do not send you or the IRS a Form 1099-C (Cancellation of Debt) for this account. "
                     "Whether forgiven debt counts as income depends on your circumstances; this letter is not tax "
                     "advice.",
    ("es", "charity"): "Impuestos: {sender} es una organización benéfica y perdonó esta deuda como un regalo. No le "
                       "enviamos a usted ni al IRS un Formulario 1099-C (Cancelación de Deuda) por ella. Que una "
                       "deuda perdonada cuente como ingreso depende de su situación; esta carta no es asesoría "
                       "fiscal.",
    ("es", "other"): "Impuestos: no le enviamos a usted ni al IRS un Formulario 1099-C (Cancelación de Deuda) por "
                     "esta cuenta. Que una deuda perdonada cuente como ingreso depende de su situación; esta carta "
                     "no es asesoría fiscal.",
}
TEXT = {
    "en": {
        "dear": "Dear {name},",
        "account": "About your account:",
        "creditor": "Original creditor: {creditor}",
        "number": "Account number ending in: {last4}",
        "date": "Charge-off or service date: {date}",
        "amount": "Amount: {amount}",
        "patient": "For the care of: {patient}",
        "case": "Court case: {case} (any judgment on this debt is covered too)",
        "holder": "Collector that held it: {collector}",
        "forgiven": "This debt has been forgiven in full. You owe nothing on it, and you do not need to do "
                    "anything. This is a gift: no one will ask you for money or for your details.",
        "collector": "If a debt collector contacts you about this account: show them this letter, give them the "
                     "code below, and point them to {verify}. A forgiven debt cannot be collected.",
        "credit": "Credit reports: if this account still shows a balance on your credit report, you can dispute "
                  "it with the credit bureau that lists it, and send a copy of this letter.",
        "code": "Verification code: {code}",
        "check": "Anyone can check this letter at {verify}",
        "questions": "Questions: {contact}",
        "closing": "With our best wishes,",
    },
    "es": {
        "dear": "Estimado/a {name}:",
        "account": "Sobre su cuenta:",
        "creditor": "Acreedor original: {creditor}",
        "number": "Número de cuenta que termina en: {last4}",
        "date": "Fecha de cancelación contable o de servicio: {date}",
        "amount": "Monto: {amount}",
        "patient": "Por la atención de: {patient}",
        "case": "Caso judicial: {case} (también cubre cualquier sentencia sobre esta deuda)",
        "holder": "Agencia de cobro que la tenía: {collector}",
        "forgiven": "Esta deuda ha sido perdonada por completo. Usted no debe nada por ella y no necesita hacer "
                    "nada. Es un regalo: nadie le pedirá dinero ni sus datos.",
        "collector": "Si un cobrador le contacta por esta cuenta: muéstrele esta carta, dele el código de abajo e "
                     "indíquele {verify}. Una deuda perdonada no se puede cobrar.",
        "credit": "Informes de crédito: si esta cuenta todavía aparece con saldo en su informe de crédito, puede "
                  "disputarla ante la agencia de crédito que la reporta y enviar una copia de esta carta.",
        "code": "Código de verificación: {code}",
        "check": "Cualquiera puede verificar esta carta en {verify}",
        "questions": "Preguntas: {contact}",
        "closing": "Con nuestros mejores deseos,",
    },
}


def long_date(day: dt.date, language: str) -> str:
    month = MONTHS[language][day.month - 1]
    return f"{month} {day.day}, {day.year}" if language == "en" else f"{day.day} de {month} de {day.year}"


def default_tax_note(language: str, entity_type: str, sender: str) -> str:
    return TAX_NOTES[(language, NOTE_KIND[entity_type])].format(sender=sender)


@dataclass(frozen=True)
class Facts:
    """One letter's facts, opened from the sealed debtor data and the public event."""

    name: str
    address_line: str
    city: str
    state: str
    zip: str
    original_creditor: str
    debt_type: str
    amount_cents: int
    account_last4: str  # "" for data sealed before it was kept
    charge_off_date: str  # ISO date, or ""
    code: str
    verify_url: str
    # What some sellers also send (offers.py); "" when not given.
    address_line_2: str = ""
    patient_name: str = ""
    co_debtor_name: str = ""
    case_number: str = ""
    current_collector: str = ""


@dataclass(frozen=True)
class Letter:
    """The letter's parts: the sender's block and the recipient's (an envelope's two windows), and one
    page of text per language."""

    sender: list[str]
    recipient: list[str]
    pages: list[list[str]]

    def lines(self) -> list[str]:
        """Everything it says, in reading order (for a plain-text rendering, and tests)."""
        return [*self.sender, "", *self.recipient, "", *(line for page in self.pages for line in page)]


def compose(facts: Facts, *, sender: list[str], signer: str, contact: str, currency: str, languages: tuple,
            entity_type: str, tax_note: str, generic_creditor: bool, today: dt.date) -> Letter:
    names = facts.name + (f" & {facts.co_debtor_name}" if facts.co_debtor_name else "")
    recipient = [names, facts.address_line, *([facts.address_line_2] if facts.address_line_2 else []),
                 f"{facts.city}, {facts.state} {facts.zip}"]
    pages = []
    for language in languages:
        text = TEXT[language]
        creditor = (GENERIC_CREDITOR[language]["medical" if facts.debt_type == "medical" else "other"]
                    if generic_creditor else facts.original_creditor)
        account = [text["creditor"].format(creditor=creditor)]
        if facts.account_last4:
            account.append(text["number"].format(last4=facts.account_last4))
        if facts.charge_off_date:
            account.append(text["date"].format(date=facts.charge_off_date))
        account.append(text["amount"].format(amount=format_cents(facts.amount_cents, currency)))
        for key, value in (("patient", facts.patient_name), ("case", facts.case_number),
                           ("holder", facts.current_collector)):
            if value:
                account.append(text[key].format(patient=value, case=value, collector=value))
        pages.append([
            long_date(today, language), "", text["dear"].format(name=names), "",
            text["account"], *(f"  {line}" for line in account), "",
            text["forgiven"], "",
            text["collector"].format(verify=facts.verify_url), "",
            text["credit"], "",
            tax_note or default_tax_note(language, entity_type, signer), "",
            text["code"].format(code=facts.code), text["check"].format(verify=facts.verify_url),
            text["questions"].format(contact=contact), "",
            text["closing"], signer,
        ])
    return Letter(sender, recipient, pages)

"""The offers' messages (PRODUCT rule 4): the offer itself, its cancellation, and a
waitlist offer and its "gone" notice, by mail and (as the client chose) by text. Pure:
``notice(change, settings, page, texts)`` builds them; the mail consumer queues them
inside the transaction of the change that causes them (``mail.consumer``)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from zoneinfo import ZoneInfo

from calbridge.config.schema import Coach, Settings
from calbridge.core.model import Client, Session
from calbridge.core.readers import Reader
from calbridge.core.tokens import REJECT
from calbridge.events.changes import Offer, OfferCancelled, Offered, WaitlistGone, WaitlistOffered
from calbridge.ical.model import Person
from calbridge.mail.offer_message import (
    Choice,
    OfferMail,
    offer_cancelled_message,
    offer_message,
    waitlist_gone_message,
    waitlist_offer_message,
)
from calbridge.mail.text_hook import Texts

OfferChange = Offered | OfferCancelled | WaitlistOffered | WaitlistGone


@dataclass(frozen=True)
class OfferNotice:
    """The mail to the client, and the text if their channel words one."""

    message: EmailMessage
    kind: str
    client: str
    text: str | None
    session_id: int | None = None


def notice(change: OfferChange, settings: Settings, page: str, texts: Texts) -> OfferNotice:
    """What ``change`` tells its client (``page``: the link to their own page, for an
    offer and its cancellation)."""
    match change:
        case Offered():
            return _offered(change, settings, page, texts)
        case OfferCancelled():
            return _offer_cancelled(change, settings, page, texts)
        case WaitlistOffered():
            return _waitlist_offered(change, settings, texts)
    return _waitlist_gone(change, settings, texts)


def _offered(change: Offered, settings: Settings, page: str, texts: Texts) -> OfferNotice:
    """The offer: one link per time, and a text for a client who chose texts."""
    offer, session, client, urls = change.offer, change.session, change.client, change.urls
    coach = settings.coach(session.coach_id)
    mail = offer_mail(settings, offer, session, client, urls, page)
    choices = [(h.start, urls[str(h.position)]) for h in offer.holds]
    reader = Reader(
        coach.name, "", _zone_of(client, coach.zone()), bool(client.timezone), client.id
    )
    said = texts.offer(coach.name, choices, reader)
    return OfferNotice(offer_message(mail), "offer", client.id, said, session.id)


def _offer_cancelled(
    change: OfferCancelled, settings: Settings, page: str, texts: Texts
) -> OfferNotice:
    """`offer cancel`: the client is told the times are taken back."""
    offer, session, client = change.offer, change.session, change.client
    coach = settings.coach(offer.coach_id)
    mail = offer_mail(settings, offer, session, client, change.urls, page)
    message = offer_cancelled_message(mail, change.reason)
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.offer_cancelled(coach.name, [h.start for h in offer.holds], reader)
    return OfferNotice(message, "offer-cancelled", client.id, said, session.id)


def _waitlist_offered(change: WaitlistOffered, settings: Settings, texts: Texts) -> OfferNotice:
    offer, client, urls = change.offer, change.client, change.urls
    coach = settings.coach(offer.coach_id)
    message = waitlist_offer_message(mail_of(settings, coach, offer, client, urls))
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.waitlist_offer(coach.name, change.start, urls["1"], reader)
    return OfferNotice(message, "waitlist-offer", client.id, said)


def _waitlist_gone(change: WaitlistGone, settings: Settings, texts: Texts) -> OfferNotice:
    offer, client, reason = change.offer, change.client, change.reason
    coach = settings.coach(offer.coach_id)
    mail = mail_of(settings, coach, offer, client, {})
    message = waitlist_gone_message(mail, reason, change.still_waiting)
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.waitlist_gone(coach.name, offer.holds[0].start, reader, reason)
    return OfferNotice(message, "waitlist-gone", client.id, said)


def offer_mail(
    settings: Settings,
    offer: Offer,
    session: Session,
    client: Client,
    urls: dict[str, str],
    page: str,
) -> OfferMail:
    """What the client's offer email says (also what `offer cancel` takes back)."""
    coach = settings.coach(session.coach_id)
    return OfferMail(
        practice=settings.mail.from_,
        coach=Person(coach.name, coach.email),
        zone=_zone_of(client, coach.zone()),
        client=Person(client.name, client.email),
        current=(session.start, session.end),
        choices=[Choice(h.start, h.end, urls[str(h.position)]) for h in offer.holds],
        reject_url=urls[REJECT],
        deadline=offer.deadline,
        note=session.note,
        page=page,
    )


def mail_of(
    settings: Settings, coach: Coach, offer: Offer, client: Client, urls: dict[str, str]
) -> OfferMail:
    """A waitlist offer's mail: its one time, in the coach's zone."""
    hold = offer.holds[0]
    return OfferMail(
        practice=settings.mail.from_,
        coach=Person(coach.name, coach.email),
        zone=coach.zone(),
        client=Person(client.name, client.email),
        current=(hold.start, hold.end),
        choices=[Choice(hold.start, hold.end, urls.get("1", ""))],
        reject_url=urls.get(REJECT, ""),
        deadline=offer.deadline,
    )


def _zone_of(client: Client, coach_zone: ZoneInfo) -> ZoneInfo:
    """The zone a client reads times in: their own, else their coach's."""
    return ZoneInfo(client.timezone) if client.timezone else coach_zone

"""The offers' messages (PRODUCT rule 4): the offer itself, its cancellation, and a
waitlist offer and its "gone" notice, by mail and (as the client chose) by text. Queued
by the mail consumer inside the transaction of the change that causes them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from calbridge.config.schema import Coach
from calbridge.core.model import Client, Session
from calbridge.core.tokens import REJECT
from calbridge.events.changes import Offer, OfferCancelled, Offered, WaitlistGone, WaitlistOffered
from calbridge.events.context import BookContext
from calbridge.events.links import client_url
from calbridge.ical.model import Person
from calbridge.mail import channels
from calbridge.mail.bodies import Reader
from calbridge.mail.channels import texts
from calbridge.mail.offer_message import (
    Choice,
    OfferMail,
    offer_cancelled_message,
    offer_message,
    waitlist_gone_message,
    waitlist_offer_message,
)
from calbridge.mail.outbox import enqueue
from calbridge.store import repo_sms
from calbridge.store.db import Db


def offered(book: BookContext, db: Db, change: Offered) -> list[str]:
    """The offer: one link per time, and a text for a client who chose texts."""
    offer, session, client, urls = change.offer, change.session, change.client, change.urls
    now, coach = book.clock(), book.settings.coach(session.coach_id)
    mail = offer_mail(book, offer, session, client, urls)
    sent = enqueue(
        db, offer_message(mail), kind="offer", now=now, domain=_domain(book), session_id=session.id
    )
    choices = [(h.start, urls[str(h.position)]) for h in offer.holds]
    reader = Reader(
        coach.name, "", _zone_of(client, coach.zone()), bool(client.timezone), client.id
    )
    said = texts.offer(coach.name, choices, reader)
    text_client(db, client.id, said, "offer", now, session.id)
    return [sent]


def offer_cancelled(book: BookContext, db: Db, change: OfferCancelled) -> list[str]:
    """`offer cancel`: the client is told the times are taken back."""
    offer, session, client = change.offer, change.session, change.client
    now, coach = book.clock(), book.settings.coach(offer.coach_id)
    mail = offer_mail(book, offer, session, client, change.urls)
    message = offer_cancelled_message(mail, change.reason)
    sent = enqueue(
        db, message, kind="offer-cancelled", now=now, domain=_domain(book), session_id=session.id
    )
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.offer_cancelled(coach.name, [h.start for h in offer.holds], reader)
    text_client(db, client.id, said, "offer-cancelled", now, session.id)
    return [sent]


def waitlist_offered(book: BookContext, db: Db, change: WaitlistOffered) -> list[str]:
    offer, client, urls = change.offer, change.client, change.urls
    now, coach = book.clock(), book.settings.coach(offer.coach_id)
    message = waitlist_offer_message(mail_of(book, coach, offer, client, urls))
    sent = enqueue(db, message, kind="waitlist-offer", now=now, domain=_domain(book))
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.waitlist_offer(coach.name, change.start, urls["1"], reader)
    text_client(db, client.id, said, "waitlist-offer", now)
    return [sent]


def waitlist_gone(book: BookContext, db: Db, change: WaitlistGone) -> list[str]:
    offer, client, reason = change.offer, change.client, change.reason
    now, coach = book.clock(), book.settings.coach(offer.coach_id)
    mail = mail_of(book, coach, offer, client, {})
    message = waitlist_gone_message(mail, reason, change.still_waiting)
    sent = enqueue(db, message, kind="waitlist-gone", now=now, domain=_domain(book))
    reader = Reader(coach.name, "", coach.zone(), own_zone=False, party=client.id)
    said = texts.waitlist_gone(coach.name, offer.holds[0].start, reader, reason)
    text_client(db, client.id, said, "waitlist-gone", now)
    return [sent]


def offer_mail(
    book: BookContext, offer: Offer, session: Session, client: Client, urls: dict[str, str]
) -> OfferMail:
    """What the client's offer email says (also what `offer cancel` takes back)."""
    coach = book.settings.coach(session.coach_id)
    with book.transaction() as db:  # joins the caller's
        page = client_url(book.settings, db, client.id) or ""
    return OfferMail(
        practice=book.settings.mail.from_,
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
    book: BookContext, coach: Coach, offer: Offer, client: Client, urls: dict[str, str]
) -> OfferMail:
    """A waitlist offer's mail: its one time, in the coach's zone."""
    hold = offer.holds[0]
    return OfferMail(
        practice=book.settings.mail.from_,
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


def _domain(book: BookContext) -> str:
    return book.settings.mail.from_.rpartition("@")[2]


def text_client(
    db: Db,
    client_id: str,
    said: str | None,
    kind: str,
    now: datetime,
    session_id: int | None = None,
) -> bool:
    """Also by text to a client who chose texts and did not opt out (mail always goes)."""
    contact = repo_sms.contact(db, "client", client_id)
    return channels.text(db, contact, said, kind, now, session_id, None)

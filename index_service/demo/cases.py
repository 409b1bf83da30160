"""The story's own children: a few fixed records (synthetic names, NHS numbers from the
999 test range) that show what the index is for, the same whatever the seed, so the
README, the `index-service demo` walk and the tests can name them.

- The **scenario child**, after the Victoria Climbié Inquiry (a synthetic child, not the
  real one): a girl of eight known under two names, who moved from Ealing to Brent to
  Haringey in little more than a year and whom housing, a hospital and two councils'
  social care each met. Haringey's social worker is now her key worker (the
  `key-worker` persona), so an emergency doctor's enquiry alerts them (R1).
- A boy on a **child protection plan** whose review is overdue (R8), and a toddler at
  the same flat, written differently, with nothing recorded (an enquiry about her
  alerts his key worker: R2).
- A **shielded** girl in a refuge (R7 when reached), a boy seen by **CAMHS** (a
  sensitive service: masked to everyone else) whose school's designated safeguarding
  lead is his lead professional, a **looked-after** boy placed in Haringey by Ealing
  (the responsible authority is not where he lives) whose social worker has no login,
  and an **unborn** baby with a pre-birth plan.
- An **unknown** child: Haringey housing enquired and found no record; a second
  agency's enquiry makes R3.

Dates of birth are fixed (the walk enquires by them); the rest of the history is dated
back from the day the seed runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from index_service.access.principal import Principal
from index_service.access.purpose import PurposeCode
from index_service.children.age import age_in_years
from index_service.children.schemas import ChildCreate
from index_service.children.service import ChildRecord, create_child
from index_service.demo.acts import Acts
from index_service.demo.people import Practitioner, Staff
from index_service.demo.places import BRENT, EALING, HARINGEY, DemoAuthority, org_code, urn_of
from index_service.enquiries.models import EnquiryCreate
from index_service.flags.schemas import (
    AreaOfConcern,
    ChildInNeedFlag,
    ChildProtectionPlanFlag,
    ConcernRaisedFlag,
    EarlyHelpFlag,
    LookedAfterFlag,
    MissingEducationFlag,
    MissingFromHomeFlag,
    ProtectionCategory,
    UnbornChildProtectionPlanFlag,
)
from index_service.organisations.models import OrganisationType as T


@dataclass(frozen=True)
class StoryChild:
    key: str
    given_names: str
    family_name: str
    date_of_birth: date | None  # None: unborn, due a few weeks after the seed runs
    postcode: str  # of the current address
    authority: DemoAuthority  # responsible
    what: str  # who they are, for the README
    nhs_number: str | None = None
    other_names: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.family_name}"


SCENARIO = StoryChild(
    key="scenario",
    given_names="Elodie",
    family_name="Marchand",
    other_names=(("Lola", "Baptiste"),),
    date_of_birth=date(2018, 4, 9),
    nhs_number="9996300072",
    postcode="N17 6RU",
    authority=HARINGEY,
    what="the scenario child: known as Lola Baptiste too; moved Ealing, Brent, Haringey; "
    "key worker Sam Okafor",
)
ON_PLAN = StoryChild(
    key="on-plan",
    given_names="Leo",
    family_name="Hartley",
    date_of_birth=date(2016, 9, 22),
    nhs_number="9996300145",
    postcode="N15 4RX",
    authority=HARINGEY,
    what="on a child protection plan, key worker Sam Okafor; the plan's review is overdue",
)
SAME_ADDRESS = StoryChild(
    key="same-address",
    given_names="Ivy",
    family_name="Rowe",
    date_of_birth=date(2024, 6, 3),
    nhs_number="9996300218",
    postcode="N15 4RX",
    authority=HARINGEY,
    what="lives at Leo Hartley's flat (written 1/9 Elmhurst Rd); nothing recorded",
)
SHIELDED = StoryChild(
    key="shielded",
    given_names="Isla",
    family_name="Greenwood",
    date_of_birth=date(2015, 1, 17),
    nhs_number="9996300285",
    postcode="HA9 8PW",
    authority=EALING,
    what="shielded (in a refuge in Brent; Ealing is responsible); PC Jordan Reid is involved",
)
SENSITIVE = StoryChild(
    key="sensitive",
    given_names="Callum",
    family_name="Reeves",
    date_of_birth=date(2011, 5, 30),
    nhs_number="9996300358",
    postcode="HA9 6BT",
    authority=BRENT,
    what="seen by CAMHS (shown to others only as a sensitive service); lead professional "
    "Alex Turner",
)
LOOKED_AFTER = StoryChild(
    key="looked-after",
    given_names="Tyler",
    family_name="Quinn",
    date_of_birth=date(2013, 2, 19),
    nhs_number="9996300420",
    postcode="N22 5JX",
    authority=EALING,
    what="looked after by Ealing, placed with foster carers in Haringey; recently missing "
    "from home; his social worker has no login",
)
UNBORN = StoryChild(
    key="unborn",
    given_names="Unborn",
    family_name="Marsh",
    date_of_birth=None,
    postcode="NW10 7QB",
    authority=BRENT,
    what="an unborn baby on a pre-birth child protection plan (mother Chloe Marsh)",
)
STORY_CHILDREN = (SCENARIO, ON_PLAN, SAME_ADDRESS, SHIELDED, SENSITIVE, LOOKED_AFTER, UNBORN)


@dataclass(frozen=True)
class UnknownChild:
    """A child the index does not hold, whom one agency has already enquired about."""

    given_names: str
    family_name: str
    date_of_birth: date
    postcode: str
    authority: DemoAuthority  # where the first enquirer said the child lives

    @property
    def name(self) -> str:
        return f"{self.given_names} {self.family_name}"


UNKNOWN = UnknownChild("Skye", "Penhallow", date(2020, 7, 11), "N15 3PL", HARINGEY)

Manager = Callable[[DemoAuthority], Principal]  # the data manager who keeps its records


def seed_story(acts: Acts, staff: Staff, manager: Manager) -> list[ChildRecord]:
    """The story's children, their involvements and flags, and the unknown child's first
    enquiry. Within each child, agencies look the child up before children's social care
    records its key worker, so no enquiry here alerts anyone."""
    made = [
        _scenario(acts, staff, manager),
        *_plan_and_neighbour(acts, staff, manager),
        _shielded(acts, staff, manager),
        _sensitive(acts, staff, manager),
        _looked_after(acts, staff, manager),
        _unborn(acts, staff, manager),
    ]
    _unknown_child_first_enquiry(acts, staff)
    return made


def _create(acts: Acts, manager: Manager, child: StoryChild, **fields: Any) -> ChildRecord:
    names = [{"kind": "legal", "given_names": child.given_names, "family_name": child.family_name}]
    names += [
        {"kind": "alias", "given_names": given, "family_name": family}
        for given, family in child.other_names
    ]
    born = child.date_of_birth or acts.today + timedelta(days=75)
    data = ChildCreate.model_validate(
        {
            "names": names,
            "date_of_birth": born.isoformat(),
            "date_of_birth_precision": "exact" if child.date_of_birth else "estimated",
            "nhs_number": child.nhs_number,
            # The story's records are kept by their authorities' data managers, who traced
            # the numbers against PDS: a verified number decides a match (model v4).
            "nhs_number_status": "verified_trace" if child.nhs_number else "unverified",
            "responsible_authority": child.authority.ons_code,
            **fields,
        }
    )
    return create_child(session=acts.session, caller=manager(child.authority), data=data)


def _address(
    line1: str, postcode: str, authority: DemoAuthority, since: date | None, until: date | None
) -> dict[str, Any]:
    return {
        "line1": line1,
        "town": "London",
        "postcode": postcode,
        "local_authority": authority.ons_code,
        "from_date": since.isoformat() if since else None,
        "to_date": until.isoformat() if until else None,
    }


def _found(
    acts: Acts, who: Practitioner, record: ChildRecord, purpose: PurposeCode, text: str
) -> None:
    if not acts.look_up(who, record, purpose=purpose, text=text):
        raise RuntimeError(f"the demo story's enquiry did not find {record.child.id}")


def _scenario(acts: Acts, staff: Staff, manager: Manager) -> ChildRecord:
    today, ago = acts.today, _ago(acts.today)
    record = _create(
        acts,
        manager,
        SCENARIO,
        addresses=[
            _address("Flat 3, 17 Tanner Row", "N17 6RU", HARINGEY, ago(120), None),
            _address("Room 6, 88 Harrow Crescent", "NW10 4QH", BRENT, ago(330), ago(120)),
            _address("Flat 2, 41 Orchard Parade", "W13 9DT", EALING, ago(450), ago(330)),
        ],
        carers={
            "status": "known",
            "people": [
                {"name": "Colette Baptiste", "relationship": "great-aunt", "phone": "07700 900150"}
            ],
        },
        gp_practice={"status": "not_registered"},
        education={"status": "not_in_education"},
    )
    child = record.child.id
    # Ealing housing met her first, and Brent's social care; both have closed their cases.
    ealing_housing = staff.member(org_code(EALING, T.HOUSING))
    _found(acts, ealing_housing, record, PurposeCode.PROVIDING_A_SERVICE, "Demo: housing advice")
    housed = acts.involve(ealing_housing, child, "Housing advice", since=ago(450))
    acts.end(ealing_housing, housed, on=ago(330))
    brent_sw = staff.member(org_code(BRENT, T.CHILDRENS_SOCIAL_CARE))
    _found(acts, brent_sw, record, PurposeCode.SAFEGUARDING_CONCERN, "Demo: referral")
    assessed = acts.involve(
        brent_sw, child, "Children in need", since=ago(300), allocated_worker=True
    )
    acts.end(brent_sw, assessed, on=ago(120))
    # A Brent hospital admitted her, and raised a concern.
    hospital = staff.member(org_code(BRENT, T.HOSPITAL))
    _found(acts, hospital, record, PurposeCode.HEALTH_CARE, "Demo: admission")
    acts.involve(hospital, child, "Paediatrics", since=ago(190))
    concern = ConcernRaisedFlag(
        kind="concern_raised",
        area_of_concern=AreaOfConcern.PARENTING_CAPACITY,
        review_date=today + timedelta(days=21),
    )
    acts.flag(hospital, child, concern, raised_on=ago(190))
    # In Haringey: housing, and education welfare (she is not at school).
    housing = staff.member(org_code(HARINGEY, T.HOUSING))
    _found(acts, housing, record, PurposeCode.PROVIDING_A_SERVICE, "Demo: housing")
    acts.involve(housing, child, "Homeless persons unit", since=ago(120))
    ews = staff.member(org_code(HARINGEY, T.EDUCATION_WELFARE))
    _found(acts, ews, record, PurposeCode.EDUCATION_WELFARE, "Demo: not on a school roll")
    acts.involve(ews, child, "Education welfare", since=ago(60))
    missing = MissingEducationFlag(
        kind="missing_education",
        education_welfare_contact=ews.name,
        review_date=today + timedelta(days=28),
    )
    acts.flag(ews, child, missing, raised_on=ago(60))
    # Haringey children's social care: the key worker, last, and the plan.
    key_worker = staff.persona("key-worker")
    acts.involve(key_worker, child, "Child protection", since=ago(90), key_worker=True)
    plan = ChildProtectionPlanFlag(
        kind="child_protection_plan",
        category=ProtectionCategory.NEGLECT,
        key_worker=key_worker.name,
        review_date=today + timedelta(days=10),  # due for review soon
    )
    acts.flag(key_worker, child, plan, raised_on=ago(75))
    return record


def _plan_and_neighbour(acts: Acts, staff: Staff, manager: Manager) -> list[ChildRecord]:
    today, ago = acts.today, _ago(acts.today)
    leo = _create(
        acts,
        manager,
        ON_PLAN,
        addresses=[_address("Flat 1, 9 Elmhurst Road", "N15 4RX", HARINGEY, ago(800), None)],
        carers={
            "status": "known",
            "people": [{"name": "Dawn Hartley", "relationship": "mother", "phone": "07700 900151"}],
        },
        education={
            "status": "attending",
            "urn": urn_of(org_code(HARINGEY, T.SCHOOL)),
            "phone": "020 7946 0211",
        },
    )
    school = staff.member(org_code(HARINGEY, T.SCHOOL))
    _found(acts, school, leo, PurposeCode.EDUCATION_WELFARE, "Demo: safeguarding lead")
    acts.involve(school, leo.child.id, "Designated safeguarding lead", since=ago(400))
    key_worker = staff.persona("key-worker")
    acts.involve(key_worker, leo.child.id, "Child protection", since=ago(210), key_worker=True)
    plan = ChildProtectionPlanFlag(
        kind="child_protection_plan",
        category=ProtectionCategory.EMOTIONAL,
        key_worker=key_worker.name,
        review_date=today + timedelta(days=1),
    )
    acts.flag(key_worker, leo.child.id, plan, raised_on=ago(200), overdue_since=ago(5))
    ivy = _create(
        acts,
        manager,
        SAME_ADDRESS,
        addresses=[_address("1/9 Elmhurst Rd", "N15 4RX", HARINGEY, ago(60), None)],
        carers={
            "status": "known",
            "people": [{"name": "Kelly Rowe", "relationship": "mother", "phone": "07700 900152"}],
        },
        education={"status": "not_of_school_age"},
    )
    return [leo, ivy]


def _shielded(acts: Acts, staff: Staff, manager: Manager) -> ChildRecord:
    today, ago = acts.today, _ago(acts.today)
    record = _create(
        acts,
        manager,
        SHIELDED,
        addresses=[
            _address("Flat 5, 30 Linden Court", "HA9 8PW", BRENT, ago(60), None),
            _address("12 Cherry Walk", "W7 2JN", EALING, ago(2000), ago(60)),
        ],
        carers={
            "status": "known",
            "people": [
                {"name": "Rachel Greenwood", "relationship": "mother", "phone": "07700 900153"}
            ],
        },
    )
    child = record.child.id
    officer = staff.persona("police-officer")  # her mother reported abuse in Ealing
    _found(acts, officer, record, PurposeCode.POLICE_INVESTIGATION, "Demo: domestic abuse")
    acts.involve(officer, child, "Domestic abuse safeguarding", since=ago(75))
    refuge = staff.member(org_code(BRENT, T.VOLUNTARY))
    _found(acts, refuge, record, PurposeCode.PROVIDING_A_SERVICE, "Demo: refuge")
    acts.involve(refuge, child, "Refuge children's service", since=ago(60))
    social_worker = staff.member(org_code(EALING, T.CHILDRENS_SOCIAL_CARE))
    acts.involve(social_worker, child, "Children in need", since=ago(70), allocated_worker=True)
    need = ChildInNeedFlag(
        kind="child_in_need",
        allocated_worker=social_worker.name,
        review_date=today + timedelta(days=40),
    )
    acts.flag(social_worker, child, need, raised_on=ago(70))
    return acts.shield(manager(EALING), record)


def _sensitive(acts: Acts, staff: Staff, manager: Manager) -> ChildRecord:
    today, ago = acts.today, _ago(acts.today)
    record = _create(
        acts,
        manager,
        SENSITIVE,
        addresses=[_address("22 Fernbank Avenue", "HA9 6BT", BRENT, ago(3000), None)],
        carers={
            "status": "known",
            "people": [{"name": "Mark Reeves", "relationship": "father", "phone": "07700 900154"}],
        },
        education={
            "status": "attending",
            "urn": urn_of(org_code(BRENT, T.SCHOOL)),
            "phone": "020 7946 0212",
        },
    )
    child = record.child.id
    camhs = staff.member(org_code(BRENT, T.CAMHS))
    _found(acts, camhs, record, PurposeCode.HEALTH_CARE, "Demo: referral accepted")
    acts.involve(camhs, child, "Child and adolescent mental health", since=ago(150))
    school_dsl = staff.persona("school-dsl")
    _found(acts, school_dsl, record, PurposeCode.EDUCATION_WELFARE, "Demo: early help")
    acts.involve(
        school_dsl, child, "Designated safeguarding lead", since=ago(240), lead_professional=True
    )
    help_ = EarlyHelpFlag(
        kind="early_help",
        lead_professional=school_dsl.name,
        review_date=today + timedelta(days=7),
    )
    acts.flag(school_dsl, child, help_, raised_on=ago(240))
    return record


def _looked_after(acts: Acts, staff: Staff, manager: Manager) -> ChildRecord:
    today, ago = acts.today, _ago(acts.today)
    record = _create(
        acts,
        manager,
        LOOKED_AFTER,
        addresses=[
            _address("27 Lordship Terrace", "N22 5JX", HARINGEY, ago(400), None),
            _address("5 Mayfield Gardens", "W7 3RB", EALING, ago(4000), ago(400)),
        ],
        carers={
            "status": "known",
            "people": [
                {"name": "Janet Pryce", "relationship": "foster carer", "phone": "07700 900156"}
            ],
        },
        education={
            "status": "attending",
            "urn": urn_of(org_code(HARINGEY, T.SCHOOL)),
            "phone": "020 7946 0211",
        },
    )
    child = record.child.id
    school = staff.member(org_code(HARINGEY, T.SCHOOL), 1)
    _found(acts, school, record, PurposeCode.EDUCATION_WELFARE, "Demo: safeguarding lead")
    acts.involve(school, child, "Designated safeguarding lead", since=ago(380))
    police = staff.member(org_code(HARINGEY, T.POLICE))
    _found(acts, police, record, PurposeCode.POLICE_INVESTIGATION, "Demo: missing episode")
    acts.involve(police, child, "Missing persons unit", since=ago(20))
    missing = MissingFromHomeFlag(kind="missing_from_home", review_date=today + timedelta(days=14))
    acts.flag(police, child, missing, raised_on=ago(20))
    # Ealing, responsible for him, records his social worker: an agency worker, no login.
    colleague = staff.member(org_code(EALING, T.CHILDRENS_SOCIAL_CARE), 2)
    worker = staff.agency_worker(org_code(EALING, T.CHILDRENS_SOCIAL_CARE))
    acts.involve(
        colleague,
        child,
        "Looked-after children",
        since=ago(400),
        allocated_worker=True,
        naming=worker,
    )
    looked_after = LookedAfterFlag(
        kind="looked_after",
        responsible_authority=EALING.ons_code,
        contact_name=worker.name,
        contact_phone=worker.phone,
        contact_email=worker.email,
        review_date=today + timedelta(days=60),
    )
    acts.flag(colleague, child, looked_after, raised_on=ago(400))
    return record


def _unborn(acts: Acts, staff: Staff, manager: Manager) -> ChildRecord:
    today, ago = acts.today, _ago(acts.today)
    record = _create(
        acts,
        manager,
        UNBORN,
        addresses=[_address("Flat 8, 3 Canal Side", "NW10 7QB", BRENT, ago(200), None)],
        carers={
            "status": "known",
            "people": [{"name": "Chloe Marsh", "relationship": "mother", "phone": "07700 900155"}],
        },
        education={"status": "not_of_school_age"},
        # Her identity, so that maternity or an ED finds the plan by an enquiry about her.
        mother={"given_names": "Chloe", "family_name": "Marsh", "date_of_birth": "2007-02-14"},
    )
    child = record.child.id
    social_worker = staff.member(org_code(BRENT, T.CHILDRENS_SOCIAL_CARE), 1)
    acts.involve(social_worker, child, "Pre-birth assessment", since=ago(40), key_worker=True)
    plan = UnbornChildProtectionPlanFlag(
        kind="unborn_child_protection_plan",
        expected_date_of_delivery=record.child.date_of_birth,
        mother_given_names="Chloe",
        mother_family_name="Marsh",
        mother_date_of_birth=date(2007, 2, 14),
        review_date=today + timedelta(days=20),
    )
    acts.flag(social_worker, child, plan, raised_on=ago(30))
    return record


def _unknown_child_first_enquiry(acts: Acts, staff: Staff) -> None:
    """Haringey housing asks about a child the index does not hold: the enquiry-only
    contact a second agency's enquiry will match (R3)."""
    housing = staff.member(org_code(HARINGEY, T.HOUSING), 1)
    found = acts.enquire(
        housing,
        EnquiryCreate(
            given_names=UNKNOWN.given_names,
            family_name=UNKNOWN.family_name,
            age_years=age_in_years(UNKNOWN.date_of_birth, acts.today),
            postcode=UNKNOWN.postcode,
            lives_in_local_authority=UNKNOWN.authority.ons_code,
        ),
        purpose=PurposeCode.PROVIDING_A_SERVICE,
        text="Demo: family presenting as homeless",
    )
    if found:
        raise RuntimeError("the demo's unknown child matched a record")


def _ago(today: date) -> Callable[[int], date]:
    return lambda days: today - timedelta(days=days)

"""The sentences of every reason code in English, Hungarian and Polish.

Each text is a function of the reason's figures, so that numbers, plurals and money are
written the way each language writes them (Polish has three plural forms, Hungarian none
after a numeral).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LANGUAGES", "TEXTS", "count_en", "count_pl", "money"]

LANGUAGES: tuple[str, ...] = ("en", "hu", "pl")

Figures = dict[str, Any]
Text = Callable[[Figures], str]


def money(minor: int, language: str = "en") -> str:
    """Minor units as an amount with two decimals in the language's convention."""
    text = f"{minor / 100:,.2f}"
    if language == "en":
        return text
    return text.replace(",", "\u00a0").replace(".", ",")


def count_en(n: int, one: str, other: str) -> str:
    """``n`` and the English noun for it (one/other)."""
    return f"{n} {one if n == 1 else other}"


def count_pl(n: int, one: str, few: str, many: str) -> str:
    """``n`` and the Polish noun for it (1; 2-4 but not 12-14; the rest)."""
    if n == 1:
        return f"{n} {one}"
    if n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return f"{n} {few}"
    return f"{n} {many}"


def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


EN: dict[str, Text] = {
    "rung.suspect": lambda f: "suspect: no purchase and no sign of interest",
    "rung.prospect": lambda f: (
        "prospect: "
        + count_en(f["interest_signals"], "interest signal", "interest signals")
        + ", never bought"
    ),
    "rung.first_time_buyer": lambda f: "first-time buyer: 1 purchase occasion",
    "rung.client": lambda f: (
        "client: " + count_en(f["occasions"], "purchase occasion", "purchase occasions")
    ),
    "rung.member.regular": lambda f: (
        "member: "
        + count_en(f["occasions_trailing"], "purchase occasion", "purchase occasions")
        + f" in the last {f['days']} days"
    ),
    "rung.member.enrolled": lambda f: "member: enrolled in the loyalty programme",
    "rung.advocate": lambda f: (
        "advocate: "
        + count_en(f["signals"], "advocacy signal", "advocacy signals")
        + f" in the last {f['days']} days"
    ),
    "rung.partner": lambda f: (
        "partner: "
        + count_en(f["referrals_converted"], "referred customer", "referred customers")
        + " bought"
    ),
    "next.no_interest": lambda f: (
        "not a prospect: no enquiry, quote or information request and no campaign response"
    ),
    "next.never_bought": lambda f: "not a buyer: no purchase occasion yet",
    "next.one_occasion": lambda f: "not a client: 1 purchase occasion, 2 needed",
    "next.not_regular": lambda f: (
        f"not a member: {f['occasions_trailing']} in the last "
        f"{f['days']} days, {f['needed']} needed"
    ),
    "next.inactive": lambda f: (
        f"not a member: no purchase for {f['days_since_last']} days, {f['allowed_days']} allowed"
    ),
    "next.no_advocacy": lambda f: (
        f"not an advocate: no promoter NPS, good review or testimonial in the last {f['days']} days"
    ),
    "next.detractor": lambda f: (
        f"not an advocate: latest NPS answer {f['nps_latest']} "
        f"is a detractor's (<= {f['detractor_max']})"
    ),
    "next.no_converted_referral": lambda f: (
        "not a partner: "
        + count_en(f["referrals_made"], "referral", "referrals")
        + f", fewer than {f['needed']} bought"
    ),
    "category.lost.cancelled": lambda f: "lost: cancelled the relationship",
    "category.lost.inactive": lambda f: (
        f"lost: no purchase for {f['days_since_last']} days, "
        f"their rhythm allows {f['allowed_days']}"
    ),
    "category.lost.p_alive": lambda f: (
        f"lost: probability of being alive {_pct(f['p_alive'])}, under {_pct(f['minimum'])}"
    ),
    "category.demanding.complaints": lambda f: (
        "demanding: "
        + count_en(f["complaints"], "complaint or claim", "complaints and claims")
        + f" in the last {f['days']} days ({f['limit']} or more)"
    ),
    "category.demanding.cost_to_serve": lambda f: (
        "demanding: cost to serve "
        f"{money(f['cost_to_serve_minor'])} is over {f['share_percent']}% of the gross margin "
        f"{money(f['gross_margin_minor'])} in the last {f['days']} days"
    ),
    "category.demanding.negative_contribution": lambda f: (
        "demanding: net contribution "
        f"{money(f['net_contribution_minor'])} is negative after cost to serve "
        f"{money(f['cost_to_serve_minor'])}"
    ),
    "category.loyal": lambda f: (
        f"loyal: net contribution {money(f['net_contribution_minor'])} "
        f"in the last {f['days']} days, " + count_en(f["complaints"], "complaint", "complaints")
    ),
    "category.average.below_member": lambda f: (
        f"average: not loyal, below the member rung ({f['rung']} < {f['needed']})"
    ),
    "category.average.not_profitable": lambda f: (
        "average: not loyal, net contribution "
        f"{money(f['net_contribution_minor'])} in the last {f['days']} days"
    ),
    "category.average.complaints": lambda f: (
        "average: not loyal, "
        + count_en(f["complaints"], "complaint", "complaints")
        + f" in the last {f['days']} days, at most {f['limit']} allowed"
    ),
}

HU: dict[str, Text] = {
    "rung.suspect": lambda f: "gyanúsított: nem vásárolt és nem érdeklődött",
    "rung.prospect": lambda f: (
        f"érdeklődő: {f['interest_signals']} érdeklődési jel, még nem vásárolt"
    ),
    "rung.first_time_buyer": lambda f: "első vásárló: 1 vásárlási alkalom",
    "rung.client": lambda f: f"ügyfél: {f['occasions']} vásárlási alkalom",
    "rung.member.regular": lambda f: (
        f"tag: {f['occasions_trailing']} vásárlási alkalom az elmúlt {f['days']} napban"
    ),
    "rung.member.enrolled": lambda f: "tag: belépett a hűségprogramba",
    "rung.advocate": lambda f: (
        f"szószóló: {f['signals']} ajánló jelzés az elmúlt {f['days']} napban"
    ),
    "rung.partner": lambda f: (
        f"partner: {f['referrals_converted']} általa ajánlott ügyfél vásárolt"
    ),
    "next.no_interest": lambda f: (
        "nem érdeklődő: nem kért ajánlatot vagy tájékoztatást, kampányra sem reagált"
    ),
    "next.never_bought": lambda f: "nem vásárló: még nincs vásárlási alkalma",
    "next.one_occasion": lambda f: "nem ügyfél: 1 vásárlási alkalom, 2 kell",
    "next.not_regular": lambda f: (
        f"nem tag: {f['occasions_trailing']} az elmúlt {f['days']} napban, {f['needed']} kell"
    ),
    "next.inactive": lambda f: (
        f"nem tag: {f['days_since_last']} napja nem vásárolt, {f['allowed_days']} a megengedett"
    ),
    "next.no_advocacy": lambda f: (
        "nem szószóló: nincs ajánló NPS-válasz, jó értékelés vagy "
        f"ajánlólevél az elmúlt {f['days']} napban"
    ),
    "next.detractor": lambda f: (
        f"nem szószóló: a legutóbbi NPS-válasza {f['nps_latest']}, "
        f"ez kritikusé (<= {f['detractor_max']})"
    ),
    "next.no_converted_referral": lambda f: (
        f"nem partner: {f['referrals_made']} ajánlás, ebből kevesebb mint {f['needed']} vásárolt"
    ),
    "category.lost.cancelled": lambda f: "elveszett: felmondta a kapcsolatot",
    "category.lost.inactive": lambda f: (
        f"elveszett: {f['days_since_last']} napja nem "
        f"vásárolt, a ritmusa {f['allowed_days']} napot enged"
    ),
    "category.lost.p_alive": lambda f: (
        f"elveszett: aktivitási valószínűsége {_pct(f['p_alive'])}, "
        f"kevesebb mint {_pct(f['minimum'])}"
    ),
    "category.demanding.complaints": lambda f: (
        f"igényes: {f['complaints']} panasz és "
        f"reklamáció az elmúlt {f['days']} napban (legalább {f['limit']})"
    ),
    "category.demanding.cost_to_serve": lambda f: (
        "igényes: a kiszolgálás költsége "
        f"{money(f['cost_to_serve_minor'], 'hu')} több, mint a(z) "
        f"{money(f['gross_margin_minor'], 'hu')} bruttó árrés {f['share_percent']}%-a "
        f"az elmúlt {f['days']} napban"
    ),
    "category.demanding.negative_contribution": lambda f: (
        "igényes: a nettó hozzájárulás "
        f"{money(f['net_contribution_minor'], 'hu')}, negatív a(z) "
        f"{money(f['cost_to_serve_minor'], 'hu')} kiszolgálási költség után"
    ),
    "category.loyal": lambda f: (
        "hűséges: nettó hozzájárulás "
        f"{money(f['net_contribution_minor'], 'hu')} az elmúlt {f['days']} napban, "
        f"{f['complaints']} panasz"
    ),
    "category.average.below_member": lambda f: (
        f"átlagos: nem hűséges, a tag fokozat alatt ({f['rung']} < {f['needed']})"
    ),
    "category.average.not_profitable": lambda f: (
        "átlagos: nem hűséges, nettó hozzájárulás "
        f"{money(f['net_contribution_minor'], 'hu')} az elmúlt {f['days']} napban"
    ),
    "category.average.complaints": lambda f: (
        f"átlagos: nem hűséges, {f['complaints']} panasz "
        f"az elmúlt {f['days']} napban, legfeljebb {f['limit']} megengedett"
    ),
}

PL: dict[str, Text] = {
    "rung.suspect": lambda f: "podejrzany: brak zakupu i brak oznak zainteresowania",
    "rung.prospect": lambda f: (
        "potencjalny klient: "
        + count_pl(
            f["interest_signals"],
            "sygnał zainteresowania",
            "sygnały zainteresowania",
            "sygnałów zainteresowania",
        )
        + ", bez zakupu"
    ),
    "rung.first_time_buyer": lambda f: "kupujący po raz pierwszy: 1 okazja zakupowa",
    "rung.client": lambda f: (
        "klient: "
        + count_pl(f["occasions"], "okazja zakupowa", "okazje zakupowe", "okazji zakupowych")
    ),
    "rung.member.regular": lambda f: (
        "członek: "
        + count_pl(
            f["occasions_trailing"], "okazja zakupowa", "okazje zakupowe", "okazji zakupowych"
        )
        + f" w ostatnich {f['days']} dniach"
    ),
    "rung.member.enrolled": lambda f: "członek: zapisany do programu lojalnościowego",
    "rung.advocate": lambda f: (
        "adwokat: "
        + count_pl(f["signals"], "sygnał poparcia", "sygnały poparcia", "sygnałów poparcia")
        + f" w ostatnich {f['days']} dniach"
    ),
    "rung.partner": lambda f: (
        "partner: "
        + count_pl(
            f["referrals_converted"],
            "polecony klient kupił",
            "poleconych klientów kupiło",
            "poleconych klientów kupiło",
        )
    ),
    "next.no_interest": lambda f: (
        "nie jest potencjalnym klientem: brak zapytań, ofert, "
        "próśb o informacje i odpowiedzi na kampanie"
    ),
    "next.never_bought": lambda f: "nie jest kupującym: brak okazji zakupowej",
    "next.one_occasion": lambda f: "nie jest klientem: 1 okazja zakupowa, potrzebne 2",
    "next.not_regular": lambda f: (
        f"nie jest członkiem: {f['occasions_trailing']} w ostatnich "
        f"{f['days']} dniach, potrzeba {f['needed']}"
    ),
    "next.inactive": lambda f: (
        f"nie jest członkiem: brak zakupu od {f['days_since_last']} dni, "
        f"dopuszczalne {f['allowed_days']}"
    ),
    "next.no_advocacy": lambda f: (
        "nie jest adwokatem: brak oceny NPS promotora, dobrej "
        f"recenzji lub referencji w ostatnich {f['days']} dniach"
    ),
    "next.detractor": lambda f: (
        f"nie jest adwokatem: ostatnia odpowiedź NPS {f['nps_latest']} "
        f"to ocena krytyka (<= {f['detractor_max']})"
    ),
    "next.no_converted_referral": lambda f: (
        "nie jest partnerem: "
        + count_pl(f["referrals_made"], "polecenie", "polecenia", "poleceń")
        + f", kupiło mniej niż {f['needed']}"
    ),
    "category.lost.cancelled": lambda f: "utracony: zerwał współpracę",
    "category.lost.inactive": lambda f: (
        f"utracony: brak zakupu od {f['days_since_last']} dni, "
        f"jego rytm dopuszcza {f['allowed_days']}"
    ),
    "category.lost.p_alive": lambda f: (
        f"utracony: prawdopodobieństwo aktywności "
        f"{_pct(f['p_alive'])}, poniżej {_pct(f['minimum'])}"
    ),
    "category.demanding.complaints": lambda f: (
        "wymagający: "
        + count_pl(f["complaints"], "reklamacja", "reklamacje", "reklamacji")
        + f" w ostatnich {f['days']} dniach ({f['limit']} lub więcej)"
    ),
    "category.demanding.cost_to_serve": lambda f: (
        "wymagający: koszt obsługi "
        f"{money(f['cost_to_serve_minor'], 'pl')} przekracza {f['share_percent']}% marży brutto "
        f"{money(f['gross_margin_minor'], 'pl')} w ostatnich {f['days']} dniach"
    ),
    "category.demanding.negative_contribution": lambda f: (
        "wymagający: wkład netto "
        f"{money(f['net_contribution_minor'], 'pl')} jest ujemny po koszcie obsługi "
        f"{money(f['cost_to_serve_minor'], 'pl')}"
    ),
    "category.loyal": lambda f: (
        "lojalny: wkład netto "
        f"{money(f['net_contribution_minor'], 'pl')} w ostatnich {f['days']} dniach, "
        + count_pl(f["complaints"], "reklamacja", "reklamacje", "reklamacji")
    ),
    "category.average.below_member": lambda f: (
        f"przeciętny: nielojalny, poniżej szczebla członka ({f['rung']} < {f['needed']})"
    ),
    "category.average.not_profitable": lambda f: (
        "przeciętny: nielojalny, wkład netto "
        f"{money(f['net_contribution_minor'], 'pl')} w ostatnich {f['days']} dniach"
    ),
    "category.average.complaints": lambda f: (
        "przeciętny: nielojalny, "
        + count_pl(f["complaints"], "reklamacja", "reklamacje", "reklamacji")
        + f" w ostatnich {f['days']} dniach, dopuszczalne najwyżej {f['limit']}"
    ),
}

TEXTS: dict[str, dict[str, Text]] = {"en": EN, "hu": HU, "pl": PL}

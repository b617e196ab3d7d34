"""UCUM unit expressions (Unified Code for Units of Measure, PS3.16 "UCUM" coding scheme): syntax check.

The grammar is UCUM's (section 2.1, "Syntax rules"):

    main-term   ::= "/" term | term
    term        ::= component (("." | "/") component)*
    component   ::= annotatable annotation? | annotation | factor | "(" term ")"
    annotatable ::= simple-unit exponent?
    simple-unit ::= ATOM | PREFIX metric-ATOM
    exponent    ::= ("+" | "-")? digits
    annotation  ::= "{" printable ASCII except curly braces "}"

The atoms and prefixes are the tables below (UCUM's essence tables: symbol and whether it is metric,
i.e. takes a prefix). An annotation directly in front of a unit (``{SUVbw}g/ml``, CID 85) is accepted as
DICOM uses it. Only the syntax and the symbols are checked, not dimensions or conversions.
"""

from __future__ import annotations

import re
from functools import lru_cache

#: SI prefixes (UCUM 2.3, Table 1) and the binary ones (Table 2)
PREFIXES = ("Y Z E P T G M k h da d c m u n p f a z y Ki Mi Gi Ti").split()  # noqa: SIM905  the UCUM tables as printed, easy to check

#: Atoms that take a prefix (UCUM "metric" units), by table of the UCUM specification
METRIC_ATOMS = """
m s g rad K C cd
mol sr Hz N Pa J W A V F Ohm S Wb Cel T H lm lx Bq Gy Sv
l L ar t bar u eV pc
[c] [h] [k] [eps_0] [mu_0] [e] [m_e] [m_p] [G] [g] [ly] gf
Ky Gal dyn erg P Bi St Mx G Oe Gb sb Lmb ph Ci R RAD REM
cal_[15] cal_[20] cal_m cal_IT cal_th cal tex
m[H2O] m[Hg] eq osm g% kat U [iU] [IU]
Np B B[SPL] B[V] B[mV] B[uV] B[10.nV] B[W] B[kW]
st mho bit By Bd
""".split()  # noqa: SIM905  the UCUM tables as printed, easy to check

#: Atoms that take no prefix
NON_METRIC_ATOMS = """
10* 10^ [pi] % [ppth] [ppm] [ppb] [pptr]
gon deg ' '' min h d a_t a_j a_g a wk mo_s mo_j mo_g mo AU atm [lbf_av]
[in_i] [ft_i] [yd_i] [mi_i] [fth_i] [nmi_i] [kn_i] [sin_i] [sft_i] [syd_i] [cin_i] [cft_i] [cyd_i]
[bf_i] [cr_i] [mil_i] [cml_i] [hd_i]
[ft_us] [yd_us] [in_us] [rd_us] [ch_us] [lk_us] [rch_us] [rlk_us] [fth_us] [fur_us] [mi_us] [acr_us]
[srd_us] [smi_us] [sct] [twp] [mil_us]
[in_br] [ft_br] [rd_br] [ch_br] [lk_br] [fth_br] [pc_br] [yd_br] [mi_br] [nmi_br] [kn_br] [acr_br]
[gal_us] [bbl_us] [qt_us] [pt_us] [gil_us] [foz_us] [fdr_us] [min_us] [crd_us] [bu_us] [gal_wi]
[pk_us] [dqt_us] [dpt_us] [tbs_us] [tsp_us] [cup_us] [foz_m] [cup_m] [tsp_m] [tbs_m]
[gal_br] [pk_br] [bu_br] [qt_br] [pt_br] [gil_br] [foz_br] [fdr_br] [min_br]
[gr] [lb_av] [oz_av] [dr_av] [scwt_av] [lcwt_av] [ston_av] [lton_av] [stone_av]
[pwt_tr] [oz_tr] [lb_tr] [sc_ap] [dr_ap] [oz_ap] [lb_ap] [oz_m]
[lne] [pnt] [pca] [pnt_pr] [pca_pr] [pied] [pouce] [ligne] [didot] [cicero]
[degF] [degR] [degRe] [Cal] [Btu_39] [Btu_59] [Btu_60] [Btu_m] [Btu_IT] [Btu_th] [Btu] [HP] [den]
[in_i'H2O] [in_i'Hg] [PRU] [wood'U] [diop] [p'diop] %[slope] [mesh_i] [Ch] [drp] [hnsf'U] [MET]
[hp'_X] [hp'_C] [hp'_M] [hp'_Q] [hp_X] [hp_C] [hp_M] [hp_Q] [kp_X] [kp_C] [kp_M] [kp_Q]
[pH] [S] [HPF] [LPF] [arb'U] [USP'U] [GPL'U] [MPL'U] [APL'U] [beth'U] [anti'Xa'U] [todd'U] [dye'U]
[smgy'U] [bdsk'U] [ka'U] [knk'U] [mclg'U] [tb'U] [CCID_50] [TCID_50] [EID_50] [PFU] [FFU] [CFU]
[IR] [BAU] [AU] [Amb'a'1'U] [PNU] [Lf] [D'ag'U] [FEU] [ELU] [EU]
Ao b att [psi] circ sph [car_m] [car_Au] [smoot] [m/s2/Hz^(1/2)] bit_s
""".split()  # noqa: SIM905  the UCUM tables as printed, easy to check

_ATOMS = dict.fromkeys(METRIC_ATOMS, True) | dict.fromkeys(NON_METRIC_ATOMS, False)
_EXPONENT = re.compile(r"^(.*?)([+-]?\d+)$")
_DIGITS = re.compile(r"^\d+$")


class UcumSyntaxError(ValueError):
    """The text is not a UCUM expression; the message says where and why."""


def _simple_unit(symbol: str) -> bool:
    if symbol in _ATOMS:
        return True
    return any(symbol.startswith(p) and _ATOMS.get(symbol[len(p):]) is True for p in PREFIXES)


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, why: str) -> UcumSyntaxError:
        return UcumSyntaxError(f"{self.text!r} is not a UCUM unit: {why} (at character {self.pos + 1})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def main(self) -> None:
        if not self.text:
            raise self.fail("empty unit (use '1' for no unit)")
        if self.peek() == "/":
            self.pos += 1
        self.term()
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")

    def term(self) -> None:
        self.component()
        while self.peek() in (".", "/") and self.peek():
            self.pos += 1
            self.component()

    def annotation(self) -> None:
        end = self.text.find("}", self.pos)
        if end < 0:
            raise self.fail("annotation '{' is not closed")
        body = self.text[self.pos + 1:end]
        if "{" in body or any(not 33 <= ord(ch) <= 126 for ch in body.replace(" ", "!")):
            raise self.fail("annotations hold printable ASCII characters except braces")
        self.pos = end + 1

    def component(self) -> None:
        ch = self.peek()
        if ch == "(":
            self.pos += 1
            self.term()
            if self.peek() != ")":
                raise self.fail("'(' is not closed")
            self.pos += 1
            return
        if ch == "{":
            self.annotation()
            if self.peek() in ("", ".", "/", ")"):
                return  # a stand-alone annotation counts as unity
        start = self.pos
        depth = 0
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "[":
                depth += 1
            elif c == "]":
                depth -= 1
            elif depth == 0 and c in "./(){":
                break
            self.pos += 1
        chunk = self.text[start:self.pos]
        if not chunk:
            raise self.fail("a unit is missing")
        if depth:
            raise self.fail("'[' is not closed")
        if not _DIGITS.match(chunk) and not _simple_unit(chunk):
            match = _EXPONENT.match(chunk)
            if not (match and match.group(1) and _simple_unit(match.group(1))):
                self.pos = start
                raise self.fail(f"unknown unit symbol {chunk!r}")
        if self.peek() == "{":
            self.annotation()


@lru_cache(maxsize=256)
def check_ucum(text: str) -> str:
    """``text`` if it is a syntactically valid UCUM expression, else :class:`UcumSyntaxError`.

    >>> check_ucum("um2/s")
    'um2/s'
    >>> check_ucum("mL/(min.g)")
    'mL/(min.g)'
    """
    if not isinstance(text, str):
        raise UcumSyntaxError(f"a UCUM unit is a string, not {type(text).__name__}")
    if any(ch.isspace() for ch in text):
        raise UcumSyntaxError(f"{text!r} is not a UCUM unit: UCUM expressions contain no spaces")
    _Parser(text).main()
    return text


def is_ucum(text: str) -> bool:
    """Whether ``text`` is a syntactically valid UCUM expression."""
    try:
        check_ucum(text)
    except UcumSyntaxError:
        return False
    return True

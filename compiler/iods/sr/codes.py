"""Concept names and coded values the SR builders write, as data (PS3.16 CID/TID tables, DCM/SCT/UMLS).

Only facts of the standard are listed here: code value, coding scheme and the meaning the standard gives.
"""

from __future__ import annotations

from ..common.concept import Code


def _dcm(value: str, meaning: str) -> Code:
    return Code(value, "DCM", meaning)


def _sct(value: str, meaning: str) -> Code:
    return Code(value, "SCT", meaning)


# --- TID 1500 Measurement Report and its containers ---------------------------------------------
IMAGING_MEASUREMENT_REPORT = _dcm("126000", "Imaging Measurement Report")
IMAGING_MEASUREMENTS = _dcm("126010", "Imaging Measurements")
MEASUREMENT_GROUP = _dcm("125007", "Measurement Group")
IMAGE_LIBRARY = _dcm("111028", "Image Library")
IMAGE_LIBRARY_GROUP = _dcm("126200", "Image Library Group")
QUALITATIVE_EVALUATIONS = Code("C0034375", "UMLS", "Qualitative Evaluations")
PROCEDURE_REPORTED = _dcm("121058", "Procedure reported")
MODALITY = _dcm("121139", "Modality")

# --- TID 1204 Language of Content Item and Descendants ------------------------------------------
LANGUAGE_OF_CONTENT = _dcm("121049", "Language of Content Item and Descendants")
COUNTRY_OF_LANGUAGE = _dcm("121046", "Country of Language")
ENGLISH_US = Code("en-US", "RFC5646", "English (United States)")

# --- TID 1001-1004 Observation Context ----------------------------------------------------------
OBSERVER_TYPE = _dcm("121005", "Observer Type")
PERSON = _dcm("121006", "Person")
DEVICE = _dcm("121007", "Device")
PERSON_OBSERVER_NAME = _dcm("121008", "Person Observer Name")
PERSON_OBSERVER_ORGANIZATION = _dcm("121009", "Person Observer's Organization Name")
PERSON_OBSERVER_ROLE_IN_ORGANIZATION = _dcm("121010", "Person Observer's Role in the Organization")
PERSON_OBSERVER_ROLE_IN_PROCEDURE = _dcm("121011", "Person Observer's Role in this Procedure")
DEVICE_OBSERVER_UID = _dcm("121012", "Device Observer UID")
DEVICE_OBSERVER_NAME = _dcm("121013", "Device Observer Name")
DEVICE_OBSERVER_MANUFACTURER = _dcm("121014", "Device Observer Manufacturer")
DEVICE_OBSERVER_MODEL_NAME = _dcm("121015", "Device Observer Model Name")
DEVICE_OBSERVER_SERIAL_NUMBER = _dcm("121016", "Device Observer Serial Number")
DEVICE_OBSERVER_PHYSICAL_LOCATION = _dcm("121017", "Device Observer Physical Location During Observation")

# --- TID 1410/1411/1501 measurement groups ------------------------------------------------------
TRACKING_IDENTIFIER = _dcm("112039", "Tracking Identifier")
TRACKING_UNIQUE_IDENTIFIER = _dcm("112040", "Tracking Unique Identifier")
ACTIVITY_SESSION = Code("C67447", "NCIt", "Activity Session")
FINDING = _dcm("121071", "Finding")
FINDING_CATEGORY = _sct("276214006", "Finding category")
FINDING_SITE = _sct("363698007", "Finding Site")
LATERALITY = _sct("272741003", "Laterality")
TOPOGRAPHICAL_MODIFIER = _sct("106233006", "Topographical modifier")
IMAGE_REGION = _dcm("111030", "Image Region")
VOLUME_SURFACE = _dcm("121231", "Volume Surface")
REFERENCED_SEGMENT = _dcm("121191", "Referenced Segment")
SOURCE_SERIES_FOR_SEGMENTATION = _dcm("121232", "Source series for segmentation")
SOURCE_IMAGE_FOR_SEGMENTATION = _dcm("121233", "Source image for segmentation")
REAL_WORLD_VALUE_MAP = _dcm("126100", "Real World Value Map used for measurement")
SOURCE = _sct("260753009", "Source")
ORIGINAL_SOURCE = _dcm("111040", "Original Source")

# --- TID 300 Measurement, TID 320, TID 4019 -----------------------------------------------------
MEASUREMENT_METHOD = _sct("370129005", "Measurement Method")
DERIVATION = _dcm("121401", "Derivation")
SOURCE_OF_MEASUREMENT = _dcm("121112", "Source of Measurement")
ALGORITHM_NAME = _dcm("111001", "Algorithm Name")
ALGORITHM_VERSION = _dcm("111003", "Algorithm Version")

# --- TID 1502 Time Point Context ----------------------------------------------------------------
TIME_POINT = Code("C2348792", "UMLS", "Time Point")
TIME_POINT_TYPE = _dcm("126072", "Time Point Type")
TIME_POINT_ORDER = _dcm("126073", "Time Point Order")
SUBJECT_TIME_POINT_IDENTIFIER = _dcm("126070", "Subject Time Point Identifier")
PROTOCOL_TIME_POINT_IDENTIFIER = _dcm("126071", "Protocol Time Point Identifier")

# --- CID 42 Numeric Value Qualifier -------------------------------------------------------------
NOT_A_NUMBER = _dcm("114000", "Not a number")
NEGATIVE_INFINITY = _dcm("114001", "Negative Infinity")
POSITIVE_INFINITY = _dcm("114002", "Positive Infinity")
NUMERIC_VALUE_QUALIFIERS = {
    c.value: c
    for c in (
        NOT_A_NUMBER,
        NEGATIVE_INFINITY,
        POSITIVE_INFINITY,
        _dcm("114003", "Divide by zero"),
        _dcm("114004", "Underflow"),
        _dcm("114005", "Overflow"),
        _dcm("114006", "Measurement failure"),
        _dcm("114007", "Measurement not attempted"),
        _dcm("114008", "Calculation failure"),
        _dcm("114009", "Value out of range"),
        _dcm("114010", "Value unknown"),
        _dcm("114011", "Value indeterminate"),
    )
}

# --- CID 29 Acquisition Modality (the few the image library names) ------------------------------
MODALITY_CODES = {
    "CT": _dcm("CT", "Computed Tomography"),
    "MR": _dcm("MR", "Magnetic Resonance"),
    "PT": _dcm("PT", "Positron emission tomography"),
    "NM": _dcm("NM", "Nuclear Medicine"),
    "US": _dcm("US", "Ultrasound"),
    "CR": _dcm("CR", "Computed Radiography"),
    "DX": _dcm("DX", "Digital Radiography"),
    "MG": _dcm("MG", "Mammography"),
    "XA": _dcm("XA", "X-Ray Angiography"),
    "SM": _dcm("SM", "Slide Microscopy"),
}

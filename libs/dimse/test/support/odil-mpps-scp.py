"""An N-CREATE / N-SET SCP on odil (Debian's python3-odil), not on pacslink's engine, so that the
tests of libs/dimse's nCreate and nSet do not share their bugs with the peer they talk to.

Usage: /usr/bin/python3 odil-mpps-scp.py PORT [--check-f7] [--set-delay-ms MS]

Every request is read by odil and reported on stdout as one line, "RECEIVED " and JSON:
{"command", "sopClassUid", "sopInstanceUid", "dataSet"}, the data set as DICOM JSON whose text is
decoded here, by Python's codecs, per the Specific Character Set that applies (an item's own, else
the enclosing one's, PS3.5 7.5.3). Not by odil.as_json: odil 0.12 decodes text inside sequence
items without the enclosing set (ISO 8859-1 "ä" inside an item comes out as a CJK character).

The status answered is the peer's own: an N-CREATE of an instance it holds already is 0x0111
(duplicate SOP instance), an N-SET of one it does not hold 0x0112 (no such SOP instance). An
instance UID of the form 1.2.3.999.<status in decimal>.<anything> is answered that status, for the
statuses no real request provokes on demand. odil's SCPs send no Error Comment.

With --check-f7 it is an MPPS SCP that holds each instance's state and checks what it receives
against PS3.4 F.7 (Table F.7.2-1) as an SCP may: an N-CREATE must be IN PROGRESS (else 0x0106,
invalid attribute value) with every Type 1 attribute valued and every Type 2 attribute present
(else 0x0120, missing attribute), the Scheduled Step Attributes Sequence's items each with a Study
Instance UID; an N-SET may not carry the attributes F.7.2-1 does not allow in it (0x0106), may
change only an IN PROGRESS instance (0x0110, processing failure: "may no longer be updated"), may
go to COMPLETED or DISCONTINUED only with the end date and time (0x0121, missing attribute value),
and to COMPLETED only with a Performed Series Sequence whose items have a Series Instance UID and
a Protocol Name (0x0121). The check that failed is written to stderr as "F7 REFUSED <reason>".

With --set-delay-ms it applies each N-SET at once and answers it MS later: a test can end the
requester in between, as a crash after the SCP's change and before the requester's commit.
"""

import json
import re
import sys
import time

import odil

STATUS_UID = re.compile(r"^1\.2\.3\.999\.(\d+)\.")
DUPLICATE_SOP_INSTANCE = 0x0111
NO_SUCH_SOP_INSTANCE = 0x0112

created = set()
CHECK_F7 = "--check-f7" in sys.argv[2:]
# the state of each instance created, for the transitions F.7.1 allows
state = {}
SET_DELAY_S = (
    int(sys.argv[sys.argv.index("--set-delay-ms") + 1]) / 1000 if "--set-delay-ms" in sys.argv else 0
)

PROCESSING_FAILURE = 0x0110
INVALID_ATTRIBUTE_VALUE = 0x0106
MISSING_ATTRIBUTE = 0x0120
MISSING_ATTRIBUTE_VALUE = 0x0121

# PS3.4 Table F.7.2-1, N-CREATE: Type 1 (a value) and Type 2 (present, may be empty) at the top level
CREATE_TYPE_1 = ["00400253", "00400241", "00400244", "00400245", "00400252", "00080060", "00400270"]
CREATE_TYPE_2 = [
    "00100010", "00100020", "00100030", "00100040", "00081120",
    "00400242", "00400243", "00400250", "00400251", "00400254", "00400255", "00081032",
    "00200010", "00400260", "00400340",
]
# in each Scheduled Step Attributes Sequence item
STEP_TYPE_1 = ["0020000D"]
STEP_TYPE_2 = ["00080050", "00081110", "00401001", "00321060", "00400009", "00400007", "00400008"]
# F.7.2-1 "Not allowed" in N-SET
NOT_IN_SET = [
    "00400270", "00100010", "00100020", "00100030", "00100040", "00081120",
    "00400253", "00400241", "00400244", "00400245", "00080060", "00200010",
]


def valued(data_set, tag):
    element = data_set.get(tag)
    return element is not None and element["Value"] not in (None, []) and element["Value"] != [""]


def refuse(status, reason):
    sys.stderr.write("F7 REFUSED %s\n" % reason)
    sys.stderr.flush()
    return status


def check_create(data_set):
    if data_set is None:
        return refuse(MISSING_ATTRIBUTE, "N-CREATE without attributes")
    for tag in CREATE_TYPE_1:
        if not valued(data_set, tag):
            return refuse(MISSING_ATTRIBUTE, "N-CREATE without a value of %s" % tag)
    for tag in CREATE_TYPE_2:
        if tag not in data_set:
            return refuse(MISSING_ATTRIBUTE, "N-CREATE without %s (Type 2)" % tag)
    if data_set["00400252"]["Value"] != ["IN PROGRESS"]:
        return refuse(INVALID_ATTRIBUTE_VALUE, "N-CREATE with status %s" % data_set["00400252"]["Value"])
    for item in data_set["00400270"]["Value"]:
        for tag in STEP_TYPE_1:
            if not valued(item, tag):
                return refuse(MISSING_ATTRIBUTE, "Scheduled Step Attributes item without a value of %s" % tag)
        for tag in STEP_TYPE_2:
            if tag not in item:
                return refuse(MISSING_ATTRIBUTE, "Scheduled Step Attributes item without %s (Type 2)" % tag)
    return 0


def check_set(uid, data_set):
    if state.get(uid) != "IN PROGRESS":
        return refuse(PROCESSING_FAILURE, "N-SET of an instance that is %s" % state.get(uid))
    data_set = data_set or {}
    for tag in NOT_IN_SET:
        if tag in data_set:
            return refuse(INVALID_ATTRIBUTE_VALUE, "N-SET of %s, which F.7.2-1 does not allow" % tag)
    status = data_set.get("00400252", {}).get("Value") or ["IN PROGRESS"]
    if status[0] not in ("IN PROGRESS", "COMPLETED", "DISCONTINUED"):
        return refuse(INVALID_ATTRIBUTE_VALUE, "N-SET to status %s" % status[0])
    if status[0] != "IN PROGRESS":
        for tag in ("00400250", "00400251"):
            if not valued(data_set, tag):
                return refuse(MISSING_ATTRIBUTE_VALUE, "N-SET %s without a value of %s" % (status[0], tag))
    if status[0] == "COMPLETED":
        series = data_set.get("00400340", {}).get("Value") or []
        if len(series) == 0:
            return refuse(MISSING_ATTRIBUTE_VALUE, "N-SET COMPLETED without a performed series")
        for item in series:
            for tag in ("0020000E", "00181030"):
                if not valued(item, tag):
                    return refuse(MISSING_ATTRIBUTE_VALUE, "performed series without a value of %s" % tag)
    state[uid] = status[0]
    return 0


CODECS = {
    "": "ascii",
    "ISO_IR 6": "ascii",
    "ISO_IR 100": "latin_1",
    "ISO_IR 101": "iso8859_2",
    "ISO_IR 144": "iso8859_5",
    "ISO_IR 126": "iso8859_7",
    "ISO_IR 148": "iso8859_9",
    "ISO_IR 203": "iso8859_15",
    "ISO_IR 192": "utf_8",
}
CHARSET_TEXT_VRS = {"SH", "LO", "ST", "LT", "UT", "PN", "UC"}


def decoded(raw, codec):
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return "UNDECODABLE(%s as %s)" % (raw.hex(), codec)


def as_json(data_set, codec):
    own = data_set.as_string(odil.registry.SpecificCharacterSet) if data_set.has(odil.registry.SpecificCharacterSet) else None
    if own is not None:
        term = own[0].decode("ascii").strip() if len(own) > 0 else ""
        codec = CODECS.get(term, "UNKNOWN SET " + term)
    result = {}
    for tag, element in data_set.items():
        vr = odil.as_string(element.vr)
        if element.is_data_set():
            values = [as_json(item, codec) for item in element.as_data_set()]
        elif element.is_string():
            text_codec = codec if vr in CHARSET_TEXT_VRS else "ascii"
            values = [decoded(raw, text_codec) for raw in element.as_string()]
            if vr == "PN":
                values = [dict(zip(("Alphabetic", "Ideographic", "Phonetic"), value.split("="))) for value in values]
        elif element.is_int():
            values = list(element.as_int())
        elif element.is_real():
            values = list(element.as_real())
        else:
            values = None
        result[str(tag).upper()] = {"vr": vr, "Value": values}
    return result


def report(command, sop_class_uid, sop_instance_uid, request):
    data_set = as_json(request.get_data_set(), "ascii") if request.has_data_set() else None
    record = {
        "command": command,
        "sopClassUid": sop_class_uid,
        "sopInstanceUid": sop_instance_uid,
        "dataSet": data_set,
    }
    sys.stdout.write("RECEIVED " + json.dumps(record, ensure_ascii=True) + "\n")
    sys.stdout.flush()
    return data_set


def chosen_status(sop_instance_uid):
    match = STATUS_UID.match(sop_instance_uid)
    return int(match.group(1)) if match else None


def on_create(request):
    uid = request.get_affected_sop_instance_uid()
    data_set = report("N-CREATE", request.get_affected_sop_class_uid(), uid, request)
    status = chosen_status(uid)
    if status is not None:
        return status
    if uid in created:
        return DUPLICATE_SOP_INSTANCE
    if CHECK_F7:
        refused = check_create(data_set)
        if refused != 0:
            return refused
        state[uid] = "IN PROGRESS"
    created.add(uid)
    return 0


def on_set(request):
    uid = request.get_requested_sop_instance_uid()
    data_set = report("N-SET", request.get_requested_sop_class_uid(), uid, request)
    status = chosen_status(uid)
    if status is not None:
        return status
    if uid not in created:
        return NO_SUCH_SOP_INSTANCE
    status = check_set(uid, data_set) if CHECK_F7 else 0
    time.sleep(SET_DELAY_S)
    return status


def serve(port):
    while True:
        association = odil.Association()
        try:
            association.receive_association("v4", port)
        except odil.Exception:
            # a connection closed before its A-ASSOCIATE-RQ, such as the test's check that we listen
            continue
        dispatcher = odil.SCPDispatcher(association)
        create_scp = odil.NCreateSCP(association)
        create_scp.set_callback(on_create)
        set_scp = odil.NSetSCP(association)
        set_scp.set_callback(on_set)
        dispatcher.set_ncreate_scp(create_scp)
        dispatcher.set_nset_scp(set_scp)
        try:
            while True:
                dispatcher.dispatch()
        except (odil.AssociationReleased, odil.AssociationAborted):
            pass
        except odil.Exception as error:
            # odil refuses a message it cannot read (e.g. an N-CREATE without a data set, which
            # PS3.7 allows): abort that association, keep serving the next ones
            sys.stderr.write("odil refused a message: %s\n" % error)
            try:
                association.abort(0, 0)
            except odil.Exception:
                # the peer is gone already (it ended while its answer was held: --set-delay-ms)
                pass


if __name__ == "__main__":
    serve(int(sys.argv[1]))

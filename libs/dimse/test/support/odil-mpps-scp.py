"""An N-CREATE / N-SET SCP on odil (Debian's python3-odil), not on pacslink's engine, so that the
tests of libs/dimse's nCreate and nSet do not share their bugs with the peer they talk to.

Usage: /usr/bin/python3 odil-mpps-scp.py PORT

Every request is read by odil and reported on stdout as one line, "RECEIVED " and JSON:
{"command", "sopClassUid", "sopInstanceUid", "dataSet"}, the data set as DICOM JSON whose text is
decoded here, by Python's codecs, per the Specific Character Set that applies (an item's own, else
the enclosing one's, PS3.5 7.5.3). Not by odil.as_json: odil 0.12 decodes text inside sequence
items without the enclosing set (ISO 8859-1 "ä" inside an item comes out as a CJK character).

The status answered is the peer's own: an N-CREATE of an instance it holds already is 0x0111
(duplicate SOP instance), an N-SET of one it does not hold 0x0112 (no such SOP instance). An
instance UID of the form 1.2.3.999.<status in decimal>.<anything> is answered that status, for the
statuses no real request provokes on demand. odil's SCPs send no Error Comment.
"""

import json
import re
import sys

import odil

STATUS_UID = re.compile(r"^1\.2\.3\.999\.(\d+)\.")
DUPLICATE_SOP_INSTANCE = 0x0111
NO_SUCH_SOP_INSTANCE = 0x0112

created = set()


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


def chosen_status(sop_instance_uid):
    match = STATUS_UID.match(sop_instance_uid)
    return int(match.group(1)) if match else None


def on_create(request):
    uid = request.get_affected_sop_instance_uid()
    report("N-CREATE", request.get_affected_sop_class_uid(), uid, request)
    status = chosen_status(uid)
    if status is not None:
        return status
    if uid in created:
        return DUPLICATE_SOP_INSTANCE
    created.add(uid)
    return 0


def on_set(request):
    uid = request.get_requested_sop_instance_uid()
    report("N-SET", request.get_requested_sop_class_uid(), uid, request)
    status = chosen_status(uid)
    if status is not None:
        return status
    return 0 if uid in created else NO_SUCH_SOP_INSTANCE


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
            association.abort(0, 0)


if __name__ == "__main__":
    serve(int(sys.argv[1]))

"""The benches' webhook receiver (bench/outbound_rig.py): what it answers and records."""

import http.client
from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from bench.outbound_rig import Receiver, first_receipts
from outbound.services import secret_generate


def post(receiver: Receiver, msg_id: str, secret: str) -> int:
    body = '{"type":"lead.created"}'
    timestamp = datetime.now(tz=UTC)
    headers = {
        "Content-Type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": Webhook(secret).sign(msg_id, timestamp, body),
    }
    connection = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=5)
    try:
        connection.request("POST", "/hook", body, headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_receiver_answers_its_status_and_records_each_webhook_id_and_its_signature():
    receiver = Receiver(status=204)  # port 0: a free one
    receiver.secret = secret_generate()
    receiver.start()
    try:
        assert receiver.port != 0
        assert receiver.url == f"http://127.0.0.1:{receiver.port}/hook"
        assert post(receiver, "msg_1", receiver.secret) == 204
        assert post(receiver, "msg_1", receiver.secret) == 204  # a duplicate
        assert post(receiver, "msg_2", secret_generate()) == 204  # another secret's signature
    finally:
        receiver.stop()
    assert [(r.webhook_id, r.signed) for r in receiver.receipts] == [
        ("msg_1", True),
        ("msg_1", True),
        ("msg_2", False),
    ]
    assert receiver.seen() == {"msg_1", "msg_2"}
    first = first_receipts(receiver.receipts)
    assert first == {"msg_1": receiver.receipts[0].at, "msg_2": receiver.receipts[2].at}

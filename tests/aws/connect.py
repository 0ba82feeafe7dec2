"""A fake Amazon Connect endpoint for the e2e scenario tests/scenarios/aws.rs.

Listens on 127.0.0.1:<port> and checks every request's AWS Signature Version 4
with botocore's own signer (`botocore.auth.SigV4Auth`, PyPI `botocore`,
installed by scripts/aws-tools.sh), never with the worker's code: the
signature is recomputed from the request as received (its method, path and
query as sent, the headers it names in SignedHeaders, its body and its
X-Amz-Date) with the key pair of <config>, for service `connect` in the
configured region, and compared, as AWS does. A bad one is answered like AWS
(403, `x-amzn-ErrorType: InvalidSignatureException`); a good one like Connect
(the JSON shapes of the Amazon Connect API reference) for DescribeInstance,
ListInstances, ListQueues, ListUsers, GetCurrentMetricData,
StartOutboundVoiceContact, DescribeContactFlow, StopContact and
DescribeContact. Each request is appended to <log> as one JSON line (method,
path, query, headers, body, whether it verified and why not, status).
Prints READY once it listens.

    python connect.py <port> <config> <log>

<config> is JSON: {"access_key_id", "secret_access_key", "region", "instance_id"}.
"""

import datetime
import json
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

PORT, CONFIG, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(CONFIG) as f:
    CFG = json.load(f)
lock = threading.Lock()
ACCOUNT = "111122223333"
REGION = CFG["region"]
INSTANCE = CFG["instance_id"]
INSTANCE_ARN = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{INSTANCE}"
FLOW = "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"
QUEUES = [
    {"Id": "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "Name": "BasicQueue", "QueueType": "STANDARD"},
    {"Id": "8d2e3f4a-5b6c-4d7e-9f8a-0b1c2d3e4f5a", "Name": "Escalations", "QueueType": "STANDARD"},
]
MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


def parse_authorization(value):
    """`AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` as a dict."""
    algorithm, _, rest = (value or "").partition(" ")
    if algorithm != "AWS4-HMAC-SHA256":
        return None
    parts = {}
    for item in rest.split(","):
        k, _, v = item.strip().partition("=")
        parts[k] = v
    if not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
        return None
    return parts


def check_signature(method, target, headers, body):
    """None when the signature is AWS's, else (status, error type, message)."""
    auth = parse_authorization(headers.get("authorization"))
    if auth is None:
        return 403, "MissingAuthenticationTokenException", "Missing Authentication Token"
    key_id, _, scope = auth["Credential"].partition("/")
    if key_id != CFG["access_key_id"]:
        return 403, "UnrecognizedClientException", "The security token included in the request is invalid."
    amz_date = headers.get("x-amz-date", "")
    if scope != f"{amz_date[:8]}/{REGION}/connect/aws4_request":
        return 403, "InvalidSignatureException", f"Credential should be scoped to a valid region and date: {scope}"
    try:
        signed_at = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return 403, "IncompleteSignatureException", "X-Amz-Date is not an ISO 8601 basic date."
    if abs((datetime.datetime.now(datetime.timezone.utc) - signed_at).total_seconds()) > 15 * 60:
        return 403, "InvalidSignatureException", f"Signature expired: {amz_date} is more than 15 minutes away."
    names = auth["SignedHeaders"].split(";")
    if "host" not in names or "x-amz-date" not in names or any(n not in headers for n in names):
        return 403, "InvalidSignatureException", "SignedHeaders must name host and x-amz-date and only headers sent."
    # The request as received: botocore signs every header it is given.
    request = AWSRequest(
        method=method,
        url=f"http://{headers['host']}{target}",
        headers={n: headers[n] for n in names},
        data=body,
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(CFG["access_key_id"], CFG["secret_access_key"]), "connect", REGION)
    canonical = signer.canonical_request(request)
    if signer.signed_headers(signer.headers_to_sign(request)) != auth["SignedHeaders"]:
        return 403, "InvalidSignatureException", MISMATCH
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if expected != auth["Signature"]:
        return 403, "InvalidSignatureException", MISMATCH
    return None


def now():
    return datetime.datetime.now(datetime.timezone.utc).timestamp()


def route(method, path, query, body):
    """Connect's answer: (status, JSON body, error type or None)."""
    seg = [s for s in path.split("/") if s]
    one = lambda k: (query.get(k) or [None])[0]  # noqa: E731
    missing = lambda what: (404, {"Message": f"{what} not found."}, "ResourceNotFoundException")  # noqa: E731
    if method == "GET" and seg == ["instance"]:
        summary = {"Id": INSTANCE, "Arn": INSTANCE_ARN, "InstanceAlias": "acme-support",
                   "IdentityManagementType": "CONNECT_MANAGED", "InstanceStatus": "ACTIVE",
                   "InboundCallsEnabled": True, "OutboundCallsEnabled": True, "CreatedTime": 1735689600.0}
        return 200, {"InstanceSummaryList": [summary]}, None
    if seg[:1] == ["instance"] and len(seg) == 2 and method == "GET":
        if seg[1] != INSTANCE:
            return missing("Instance")
        return 200, {"Instance": {"Id": INSTANCE, "Arn": INSTANCE_ARN, "InstanceAlias": "acme-support",
                                  "IdentityManagementType": "CONNECT_MANAGED", "InstanceStatus": "ACTIVE",
                                  "InboundCallsEnabled": True, "OutboundCallsEnabled": True,
                                  "CreatedTime": 1735689600.0,
                                  "InstanceAccessUrl": "https://acme-support.my.connect.aws"}}, None
    if len(seg) == 2 and seg[1] != INSTANCE and seg[0] in ("queues-summary", "users-summary", "metrics"):
        return missing("Instance")
    if method == "GET" and seg[:1] == ["queues-summary"]:
        kinds = query.get("queueTypes") or ["STANDARD", "AGENT"]
        queues = [dict(q, Arn=f"{INSTANCE_ARN}/queue/{q['Id']}") for q in QUEUES if q["QueueType"] in kinds]
        limit = int(one("maxResults") or 100)
        page = {"QueueSummaryList": queues[:limit]}
        if len(queues) > limit:
            page["NextToken"] = "page-2 of queues/=="
        return 200, page, None
    if method == "GET" and seg[:1] == ["users-summary"]:
        users = [{"Id": "9e3f4a5b-6c7d-4e8f-8a9b-1c2d3e4f5a6b", "Username": "agent.one",
                  "Arn": f"{INSTANCE_ARN}/agent/9e3f4a5b-6c7d-4e8f-8a9b-1c2d3e4f5a6b"}]
        return 200, {"UserSummaryList": users[: int(one("maxResults") or 100)]}, None
    if method == "POST" and seg[:2] == ["metrics", "current"]:
        if seg[2:] != [INSTANCE]:
            return missing("Instance")
        queues = body.get("Filters", {}).get("Queues") or []
        metrics = body.get("CurrentMetrics") or []
        if not queues or not metrics:
            return 400, {"Message": "Filters.Queues and CurrentMetrics are required."}, "InvalidParameterException"
        results = [{"Dimensions": {"Queue": {"Id": q, "Arn": f"{INSTANCE_ARN}/queue/{q}"}},
                    "Collections": [{"Metric": m, "Value": 3.0} for m in metrics]} for q in queues]
        return 200, {"MetricResults": results, "DataSnapshotTime": now(), "ApproximateTotalCount": len(results)}, None
    if method == "PUT" and seg == ["contact", "outbound-voice"]:
        if body.get("InstanceId") != INSTANCE:
            return missing("Instance")
        if not body.get("DestinationPhoneNumber") or not body.get("ContactFlowId"):
            return 400, {"Message": "DestinationPhoneNumber and ContactFlowId are required."}, "InvalidParameterException"
        return 200, {"ContactId": str(uuid.uuid4())}, None
    if method == "GET" and seg[:1] == ["contact-flows"] and len(seg) == 3:
        if seg[1] != INSTANCE or seg[2] != FLOW:
            return missing("Contact flow")
        return 200, {"ContactFlow": {"Arn": f"{INSTANCE_ARN}/contact-flow/{FLOW}", "Id": FLOW,
                                     "Name": "Outbound survey", "Type": "CONTACT_FLOW",
                                     "State": "ACTIVE", "Status": "PUBLISHED"}}, None
    if method == "POST" and seg == ["contact", "stop"]:
        if body.get("InstanceId") != INSTANCE or not body.get("ContactId"):
            return 400, {"Message": "ContactId and InstanceId are required."}, "InvalidRequestException"
        return 200, {}, None
    if method == "GET" and seg[:1] == ["contacts"] and len(seg) == 3:
        if seg[1] != INSTANCE:
            return missing("Instance")
        return 200, {"Contact": {"Arn": f"{INSTANCE_ARN}/contact/{seg[2]}", "Id": seg[2],
                                 "Channel": "VOICE", "InitiationMethod": "API"}}, None
    return 404, {"message": "Unknown operation"}, "UnknownOperationException"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {}
        for k, v in self.headers.items():
            k = k.lower()
            headers[k] = f"{headers[k]},{v.strip()}" if k in headers else v.strip()
        failed = check_signature(self.command, self.path, headers, body)
        target = urlsplit(self.path)
        if failed is None:
            try:
                parsed = json.loads(body) if body else {}
            except ValueError:
                parsed = {}
            status, answer, error_type = route(
                self.command, target.path, parse_qs(target.query, keep_blank_values=True), parsed
            )
        else:
            status, error_type, message = failed
            answer = {"message": message}
        record = {
            "method": self.command,
            "path": target.path,
            "query": target.query,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "verified": failed is None,
            "error": None if failed is None else failed[2],
            "status": status,
        }
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(record) + "\n")
        out = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("x-amzn-requestid", str(uuid.uuid4()))
        if error_type:
            self.send_header("x-amzn-errortype", error_type)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = handle_any  # noqa: N815

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("READY", flush=True)
server.serve_forever()

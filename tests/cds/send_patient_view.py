"""Send one CDS Hooks 2.0 `patient-view` request as an EHR would, with healthchain's sandbox client,
and print what came back as one JSON object on stdout:

    {"status": 200, "body": {...} or "text", "request": {...what was sent...},
     "cds_response_errors": null or [...]}

``cds_response_errors`` is healthchain's own check of a 200 answer against its CDS Hooks response
model (cards, indicator, source ...); null when the answer conforms or was not a 200.

Run by tests/cds/.venv/bin/python (healthchain's own environment, see make_venv.sh), never imported
by the service's tests:

    send_patient_view.py --url URL --patient-id ID [--patient-file patient.json]
                         [--user-id Practitioner/x] [--fhir-server URL] [--timeout 10]

The Authorization header's value ("Bearer <JWT>") comes from the environment variable
CDS_AUTHORIZATION, so a token never shows in a process listing.

The request is built and queued by healthchain's SandboxClient (its CDS request constructor makes
hookInstance, context and prefetch) and serialised as SandboxClient.send_requests does; it is posted
here because send_requests takes no headers and turns every error status into an empty answer, and
the tests must send a bearer token and see a 401 as a 401.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import httpx
from healthchain.models import CDSResponse
from healthchain.sandbox import SandboxClient
from healthchain.sandbox.requestconstructors import CdsRequestConstructor
from healthchain.sandbox.workflows import Workflow
from pydantic import ValidationError


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="the CDS service's URL")
    parser.add_argument("--patient-id", required=True, help="context.patientId")
    parser.add_argument("--patient-file", help="a FHIR Patient (JSON) sent as prefetch 'patient'")
    parser.add_argument("--user-id", default="Practitioner/myocit-test-clinician")
    parser.add_argument("--fhir-server", help="fhirServer of the request")
    parser.add_argument("--timeout", type=float, default=10.0)
    return parser.parse_args()


def main() -> int:
    args = arguments()
    prefetch = None
    if args.patient_file:
        with open(args.patient_file, encoding="utf-8") as f:
            prefetch = {"patient": json.load(f)}

    client = SandboxClient(
        url=args.url, workflow=Workflow.patient_view, protocol="rest", timeout=args.timeout
    )
    # All by keyword: healthchain's workflow check finds the workflow among keywords once any is given.
    request = CdsRequestConstructor().construct_request(
        prefetch_data=prefetch,
        workflow=Workflow.patient_view,
        context={"patientId": args.patient_id, "userId": args.user_id},
    )
    if args.fhir_server:
        request.fhirServer = args.fhir_server
    client.requests.append(request)

    sent = client.requests[0].model_dump(exclude_none=True, mode="json")
    headers = {}
    if os.environ.get("CDS_AUTHORIZATION"):
        headers["Authorization"] = os.environ["CDS_AUTHORIZATION"]
    response = httpx.post(str(client.url), json=sent, headers=headers, timeout=client.timeout)

    try:
        body = response.json()
    except json.JSONDecodeError:
        body = response.text
    errors = None
    if response.status_code == 200:
        try:
            CDSResponse.model_validate(body)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
    json.dump(
        {"status": response.status_code, "body": body, "request": sent, "cds_response_errors": errors},
        sys.stdout,
        default=str,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

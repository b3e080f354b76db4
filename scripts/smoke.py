#!/usr/bin/env python3
"""make smoke: the deployed stack works end to end, checked from outside.

usage: smoke.py [--stack costwatch] [--region R] [--profile P] [--wait SECONDS]

1. The stack's outputs (CloudFormation DescribeStacks): the collect and report functions and the
   lake bucket.
2. Invokes collect once, synchronously, with events/collect/scheduled.json. It pulls from Cost
   Explorer within the stack's request cap (CeMaxRequestsPerRun, $0.01 a request) and announces
   the days it wrote; aggregate, detect and forecast then run on their own, through SNS.
3. Invokes report with events/report/daily.json until it reports on a day (aggregate may still
   be running), at most --wait seconds.
4. Checks that the report's HTML object is in the bucket, written by this run, and not empty.

Needs credentials for the account the stack is in, allowed cloudformation:DescribeStacks,
lambda:InvokeFunction on the two functions and s3:GetObject on the bucket's reports/. Prints one
line per step; exit 1 with the reason when a step fails. boto3 comes from the SAM CLI's venv.
"""
import argparse
import datetime
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
NEEDED_OUTPUTS = ("CollectFunctionArn", "ReportFunctionArn", "LakeBucketName")


class SmokeFailure(Exception):
    pass


def stack_outputs(cloudformation, stack):
    """The outputs the smoke test needs, by name; a missing stack or output is a failure."""
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except cloudformation.exceptions.ClientError as e:
        raise SmokeFailure(f"stack {stack}: {e} (deployed with `make deploy`? right region?)")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    missing = [name for name in NEEDED_OUTPUTS if name not in outputs]
    if missing:
        raise SmokeFailure(f"stack {stack} has no output {', '.join(missing)}")
    return outputs


def invoke(lambda_client, function, event_file):
    """Invokes `function` synchronously with the event in `event_file`; its JSON answer."""
    payload = (ROOT / event_file).read_bytes()
    reply = lambda_client.invoke(FunctionName=function, Payload=payload)
    body = reply["Payload"].read().decode()
    if reply.get("FunctionError"):
        raise SmokeFailure(f"{function} failed: {body[:2000]}")
    return json.loads(body) if body else None


def check_report(s3, bucket, key, since):
    """The report object exists, is not empty and was written at or after `since` (UTC)."""
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as e:
        raise SmokeFailure(f"s3://{bucket}/{key}: {e}")
    if head["ContentLength"] == 0:
        raise SmokeFailure(f"s3://{bucket}/{key} is empty")
    # S3 keeps whole seconds: compare at that precision.
    if head["LastModified"] < since.replace(microsecond=0):
        raise SmokeFailure(
            f"s3://{bucket}/{key} was written {head['LastModified']:%Y-%m-%d %H:%M:%S}, "
            f"before this run ({since:%H:%M:%S})"
        )
    return head["ContentLength"]


def smoke(session, stack, wait):
    outputs = stack_outputs(session.client("cloudformation"), stack)
    print(f"smoke: stack {stack}: outputs found")
    lambda_client = session.client("lambda")
    since = datetime.datetime.now(datetime.timezone.utc)
    collected = invoke(lambda_client, outputs["CollectFunctionArn"], "events/collect/scheduled.json")
    print(f"smoke: collect: {json.dumps(collected)[:300]}")
    deadline = time.monotonic() + wait
    pause = 5
    while True:
        report = invoke(lambda_client, outputs["ReportFunctionArn"], "events/report/daily.json")
        if report and report.get("html"):
            break
        if time.monotonic() > deadline:
            raise SmokeFailure(
                f"report found no cost data within {wait} s: {report} (Cost Explorer enabled? "
                "see the collect, aggregate and pipeline DLQ logs)"
            )
        print(f"smoke: report has no data yet (aggregate still running?); again in {pause} s")
        time.sleep(pause)
        pause = min(pause * 2, 60)
    size = check_report(session.client("s3"), outputs["LakeBucketName"], report["html"], since)
    print(f"smoke: ok: report for {report.get('as_of')} at "
          f"s3://{outputs['LakeBucketName']}/{report['html']} ({size} bytes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default="costwatch")
    parser.add_argument("--region")
    parser.add_argument("--profile")
    parser.add_argument("--wait", type=int, default=600, help="seconds to wait for aggregate")
    args = parser.parse_args()
    import boto3  # from the SAM CLI's venv (make smoke), imported late so --help needs none

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    try:
        smoke(session, args.stack, args.wait)
    except SmokeFailure as e:
        sys.exit(f"smoke: FAILED: {e}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The parts of scripts/smoke.py that need no deployed stack, against a real moto server:
reading the stack's outputs (CloudFormation) and the report check (S3). Invoking the Lambdas
needs Docker in moto, which these machines lack; `make smoke` on a real account covers that.

usage: COSTWATCH_MOTO=/path/to/moto_server python test_smoke.py   (make test runs it)
"""
import datetime
import json
import os
import pathlib
import socket
import subprocess
import sys
import time
import unittest
import urllib.request

import boto3

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import smoke  # noqa: E402

REGION = "us-east-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MotoTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        moto = os.environ.get("COSTWATCH_MOTO")
        if not moto:
            raise RuntimeError("COSTWATCH_MOTO is not set (make test sets it)")
        port = free_port()
        cls.server = subprocess.Popen([moto, "-H", "127.0.0.1", "-p", str(port)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        cls.endpoint = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # readiness: the server answers its own API
            try:
                urllib.request.urlopen(f"{cls.endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                if time.monotonic() > deadline or cls.server.poll() is not None:
                    cls.server.kill()
                    raise RuntimeError(f"moto_server did not start on {cls.endpoint}")
                time.sleep(0.1)
        cls.session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                    region_name=REGION)

    @classmethod
    def tearDownClass(cls):
        cls.server.terminate()
        cls.server.wait(timeout=10)

    def client(self, name):
        return self.session.client(name, endpoint_url=self.endpoint)


def template(outputs):
    return json.dumps({
        "Resources": {"Lake": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    })


class StackOutputs(MotoTest):
    def test_reads_the_three_outputs(self):
        cfn = self.client("cloudformation")
        wanted = {"CollectFunctionArn": "arn:collect", "ReportFunctionArn": "arn:report",
                  "LakeBucketName": "lake", "AlarmTopicArn": "arn:alarms"}
        cfn.create_stack(StackName="full", TemplateBody=template(wanted))
        outputs = smoke.stack_outputs(cfn, "full")
        for name in smoke.NEEDED_OUTPUTS:
            self.assertEqual(outputs[name], wanted[name])

    def test_a_missing_output_is_named(self):
        cfn = self.client("cloudformation")
        cfn.create_stack(StackName="partial", TemplateBody=template(
            {"CollectFunctionArn": "arn:collect", "LakeBucketName": "lake"}))
        with self.assertRaisesRegex(smoke.SmokeFailure, "no output ReportFunctionArn"):
            smoke.stack_outputs(cfn, "partial")

    def test_a_missing_stack_fails(self):
        with self.assertRaisesRegex(smoke.SmokeFailure, "stack nowhere"):
            smoke.stack_outputs(self.client("cloudformation"), "nowhere")


class ReportCheck(MotoTest):
    KEY = "reports/daily/dt=2026-11-30/report.html"

    def setUp(self):
        self.s3 = self.client("s3")
        self.bucket = f"lake-{self.id().rsplit('.', 1)[-1].replace('_', '-')}"[:63]
        self.s3.create_bucket(Bucket=self.bucket)

    def now(self):
        return datetime.datetime.now(datetime.timezone.utc)

    def test_a_fresh_report_passes_with_its_size(self):
        since = self.now()
        self.s3.put_object(Bucket=self.bucket, Key=self.KEY, Body=b"<html>report</html>")
        self.assertEqual(smoke.check_report(self.s3, self.bucket, self.KEY, since), 19)

    def test_a_missing_report_fails(self):
        with self.assertRaisesRegex(smoke.SmokeFailure, "report.html"):
            smoke.check_report(self.s3, self.bucket, self.KEY, self.now())

    def test_an_empty_report_fails(self):
        since = self.now()
        self.s3.put_object(Bucket=self.bucket, Key=self.KEY, Body=b"")
        with self.assertRaisesRegex(smoke.SmokeFailure, "is empty"):
            smoke.check_report(self.s3, self.bucket, self.KEY, since)

    def test_a_report_older_than_the_run_fails(self):
        self.s3.put_object(Bucket=self.bucket, Key=self.KEY, Body=b"<html>old</html>")
        later = self.now() + datetime.timedelta(minutes=5)
        with self.assertRaisesRegex(smoke.SmokeFailure, "before this run"):
            smoke.check_report(self.s3, self.bucket, self.KEY, later)


if __name__ == "__main__":
    unittest.main(verbosity=2)

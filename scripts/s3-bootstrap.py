"""Creates the test user of a fresh moto server: an IAM user, a policy that
allows S3, an access key, then the test bucket, and writes the access key to
an AWS credentials file (0600).

moto checks signatures only once INITIAL_NO_AUTH_ACTION_COUNT requests have
been served; dev-s3.sh sets it to the number of IAM calls made here (4), so
the bucket is created with the new key and every later request is checked.

usage: s3-bootstrap.py ENDPOINT BUCKET CREDENTIALS_FILE
"""
import json
import os
import sys

import boto3
import botocore.config

endpoint, bucket, credentials_file = sys.argv[1:4]
region = "us-east-1"
config = botocore.config.Config(retries={"max_attempts": 1}, s3={"addressing_style": "path"})

# Before authentication is on, any key is accepted; these are placeholders.
iam = boto3.client(
    "iam", endpoint_url=endpoint, region_name=region, config=config,
    aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap",
)
iam.create_user(UserName="pgcellar-test")
policy = iam.create_policy(
    PolicyName="pgcellar-test-s3",
    PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
    }),
)
iam.attach_user_policy(UserName="pgcellar-test", PolicyArn=policy["Policy"]["Arn"])
key = iam.create_access_key(UserName="pgcellar-test")["AccessKey"]

s3 = boto3.client(
    "s3", endpoint_url=endpoint, region_name=region, config=config,
    aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"],
)
s3.create_bucket(Bucket=bucket)

# Authentication must now be on: a wrong secret has to be refused.
wrong = boto3.client(
    "s3", endpoint_url=endpoint, region_name=region, config=config,
    aws_access_key_id=key["AccessKeyId"], aws_secret_access_key="not-the-secret",
)
try:
    wrong.list_objects_v2(Bucket=bucket)
except Exception:
    pass
else:
    sys.exit("moto accepted a wrong secret: authentication is not on")

fd = os.open(credentials_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
with os.fdopen(fd, "w") as f:
    f.write("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n"
            % (key["AccessKeyId"], key["SecretAccessKey"]))
    f.flush()
    os.fsync(f.fileno())
os.rename(credentials_file + ".tmp", credentials_file)

"""Powertools Logger and Metrics shared by both functions.

Defaults keep them working when the module is imported before the function's environment is set
(tests, the local runner); on Lambda the template's POWERTOOLS_* variables decide.
"""

import os

from aws_lambda_powertools import Logger, Metrics

logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME") or "credits-pipeline")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "CreditsPipeline")

"""Powertools Logger and Metrics shared by both functions (service name from POWERTOOLS_SERVICE_NAME)."""

from aws_lambda_powertools import Logger, Metrics

logger = Logger()
metrics = Metrics()

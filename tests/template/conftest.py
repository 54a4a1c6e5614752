"""template.yaml after the SAM transform, as CloudFormation would run it."""

import pytest

from local_stack.provision import transformed_template
from tests.template.cfn import Template


@pytest.fixture
def template() -> Template:
    """A fresh copy per test (the transform itself is cached): a test may change it freely."""
    return transformed_template()

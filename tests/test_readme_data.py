"""The README's "Data" section works as written: each of its curl lines is run, as it
stands, against a live server holding the article's record (only the address of the server
is changed), and each must succeed (curl -f fails on any HTTP error) and say something."""

import json
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

README = Path(__file__).resolve().parent.parent / "README.md"
MADE_BY_MAKE_RUN = "http://127.0.0.1:8000"


def data_section_curl_lines() -> list[str]:
    text = README.read_text()
    section = text.split("\n## Data\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.startswith("curl ")]


def test_the_data_section_has_curl_examples():
    lines = data_section_curl_lines()
    assert len(lines) >= 8
    assert all(MADE_BY_MAKE_RUN in line for line in lines)


@pytest.mark.django_db(transaction=True)
def test_every_curl_line_of_the_readme_runs_against_a_live_server(live_server, tmp_path):
    if not shutil.which("curl"):
        if os.environ.get("CI"):
            pytest.fail("curl is required in CI")
        pytest.skip("curl is not installed")
    call_command("load_record", "russia_tajikistan", verbosity=0)
    for line in data_section_curl_lines():
        command = line.replace(MADE_BY_MAKE_RUN, live_server.url)
        result = subprocess.run(
            shlex.split(command), cwd=tmp_path, capture_output=True, timeout=60, check=False
        )
        assert result.returncode == 0, f"{line}\n{result.stderr.decode()[-2000:]}"
        args = shlex.split(line)
        output = (
            (tmp_path / args[args.index("-o") + 1]).read_bytes()
            if "-o" in args
            else (result.stdout)
        )
        assert output.strip(), line
        url = args[-1].split("?")[0]
        if url.endswith(".json") or "Accept: application/json" in line:
            assert json.loads(output)["schema_version"] == 1, line

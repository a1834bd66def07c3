"""Helpers of the command-line tests: the check that an error is one line on stderr (tests/test_cli.py and the tests
of a module through its command)."""


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "\n" not in err and "Traceback" not in err, err
    return err

"""Stand-in for pypa's get-pip.py, for ansible-test's virtual environments.

ansible-test creates each venv without pip and bootstraps it with a get-pip.py script downloaded
from ci-files.testing.ansible.com, which this machine cannot reach. scripts/test places this file
where ansible-test caches that script (in a HOME of our own, so nothing global changes); it is run
as ``python get_pip_X_Y.py [pip options] pip==X.Y ...`` inside the new venv. It installs pip from
the interpreter's own ensurepip wheel, then the requested packages from PyPI.
"""

import subprocess
import sys

IGNORED = {"--no-setuptools", "--no-wheel"}


def main():
    args = [arg for arg in sys.argv[1:] if arg not in IGNORED]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    main()

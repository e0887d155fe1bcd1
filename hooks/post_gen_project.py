"""Remove the folders of the features this project was not rendered with.

Optional files carry their condition in their name, and both engines skip a
file whose name renders empty; a folder whose name renders empty is an error in
Cookiecutter, so each feature's folders are named plainly and removed here when
the feature is off. Copier leaves them out through `_exclude` entries made from
the same map (`_feature_folders` in cookiecutter.json).
"""

import json
import shutil
from pathlib import Path

ANSWERS = json.loads(r"""{{ cookiecutter | tojson }}""")

if __name__ == "__main__":
    for folder, answer in ANSWERS["_feature_folders"].items():
        if not ANSWERS[answer]:
            for parent in (Path("src") / ANSWERS["package_name"], Path("tests")):
                shutil.rmtree(parent / folder)

"""{{ cookiecutter.description }}"""

TITLE = {{ cookiecutter.project_name | tojson }}

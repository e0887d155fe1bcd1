"""The ASGI application, built from the environment.

uvicorn {{ cookiecutter.package_name }}.main:app
"""

from .app import create_app

app = create_app()

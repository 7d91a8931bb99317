"""``python -m audiospec`` (and ``accelerate launch -m audiospec ...``) runs the command line."""

from audiospec.cli import app

if __name__ == "__main__":
    app()

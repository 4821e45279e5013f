"""`python -m jobmatch.cli` runs the command line."""

from jobmatch.cli import main

if __name__ == "__main__":
    main()

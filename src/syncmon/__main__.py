from syncmon.cli import entry

entry()

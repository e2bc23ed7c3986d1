from stsd.cli import main

main()

from calbridge.cli.main import main

main()

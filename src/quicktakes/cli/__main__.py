from quicktakes.cli import main

main()

from assistant_stack.cli import main

main()

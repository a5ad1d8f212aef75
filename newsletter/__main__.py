from newsletter.launch import main

main()

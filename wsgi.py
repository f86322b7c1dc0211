from learnhub import create_app

app = create_app()

"""What a browser test does behind the scenes, not through the pages: direct access to the live
server's database (backstage), more devices, and what a tab keeps in sessionStorage.

Page objects, what the person does on each page, live in ``tests/browser/pages/``."""

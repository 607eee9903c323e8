"""The knowledge base as editors write it, read and validated: which files of a KB folder are articles and its
own YAML read safely (`files`, `yamlsafe`), an article's front matter and body (`articles`, `rawhtml`), its
Markdown rendered with headings and anchors (`markup`), the headings that mark reply sections (`headings`),
the passages it is cut into (`chunking`) and the synonyms file (`synonyms`); nothing here writes an index.
"""

"""ExamPulse as an LTI 1.3 Advantage tool: launched from the LMS, rosters from it, grades back to it.

Only the project wiring (exampulse settings and urls) imports this app; no other app knows of it
(.importlinter). The protocol is django-lti's `lti_tool` app on PyLTI1p3.
"""

"""The officials' workspace: moderators and city admins run consultations and read what came in.

Every page checks the role (web/routes/admin/common.py) before it fetches anything; the API enforces it too.
"""
from web.routes.admin import budget, city, insights, inputs, polls, projects

routes = [*projects.routes, *insights.routes, *inputs.routes, *budget.routes, *polls.routes, *city.routes]

"""Training: courses, certifications, resources, onboarding (built in issue 4)."""

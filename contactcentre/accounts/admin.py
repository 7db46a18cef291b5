from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*BaseUserAdmin.fieldsets, ("Kontaktcenter", {"fields": ("role", "department", "languages", "capacity")}))
    list_display = ("username", "email", "role", "department", "is_active")
    list_filter = ("role", "department", "is_active")

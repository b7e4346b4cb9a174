"""factory_boy factories. Use `.build()` where no row is needed."""

from __future__ import annotations

import factory

from accounts.models import Role, User

DEFAULT_PASSWORD = "Corr3ct-Horse-Battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"user{n}@example.org")
    role = Role.STUDENT
    roll_number = factory.Sequence(lambda n: f"R{n:04d}")
    department = "Physics"
    semester = 3

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or DEFAULT_PASSWORD)
        if create:
            self.save(update_fields=["password"])


class StudentFactory(UserFactory):
    role = Role.STUDENT


class ProctorFactory(UserFactory):
    role = Role.PROCTOR
    is_staff = True
